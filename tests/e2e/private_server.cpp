#include "private_server.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <netinet/in.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sluice::test {

bool running_as_root() {
    return ::geteuid() == 0;
}

std::string first_executable(const std::vector<std::string>& candidates) {
    for (const auto& c : candidates) {
        if (::access(c.c_str(), X_OK) == 0) {
            return c;
        }
    }
    throw std::runtime_error("none of " + candidates.front() + "... is executable");
}

void ensure_system_user(const std::string& name) {
    if (!running_as_root() || ::getpwnam(name.c_str()) != nullptr) {
        return;
    }
    const auto r =
        run_process(first_executable({"/usr/sbin/useradd", "/sbin/useradd"}),
                    {"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name});
    // Another test process may have created it meanwhile: only its absence is an error.
    if (::getpwnam(name.c_str()) == nullptr) {
        throw std::runtime_error("cannot create the system user " + name + ": " + r.err);
    }
}

process_result run_as(const std::string& user, const std::string& program,
                      const std::vector<std::string>& args) {
    if (!running_as_root()) {
        return run_process(program, args);
    }
    std::vector<std::string> full{"-u", user, "--", program};
    full.insert(full.end(), args.begin(), args.end());
    return run_process(first_executable({"/usr/sbin/runuser", "/sbin/runuser"}), full);
}

std::filesystem::path make_server_dir(const std::string& stem, const std::string& user) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + stem + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    ::chmod(pattern.c_str(), 0755);
    if (running_as_root()) {
        const passwd* pw = ::getpwnam(user.c_str());
        if (pw == nullptr || ::chown(pattern.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            std::filesystem::remove(pattern);
            throw std::runtime_error("cannot hand " + pattern + " to " + user);
        }
    }
    return pattern;
}

std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        throw std::runtime_error("socket() failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    if (!ok) {
        throw std::runtime_error("cannot find a free loopback port");
    }
    return ntohs(addr.sin_port);
}

}  // namespace sluice::test
