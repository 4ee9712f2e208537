#include "daemon_process.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "process.hpp"

namespace sluice::test {

daemon_process::daemon_process(const std::vector<std::string>& args, std::filesystem::path log_file,
                               const std::vector<std::string>& extra_env)
    : log_file_(std::move(log_file)) {
    const int log_fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        throw std::runtime_error("cannot open " + log_file_.string());
    }
    try {
        pid_ = spawn_process(SLUICE_BINARY, args, extra_env, log_fd, log_fd);
    } catch (...) {
        ::close(log_fd);
        throw;
    }
    ::close(log_fd);
}

daemon_process::~daemon_process() {
    if (!exit_code_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

void daemon_process::signal(int sig) const {
    ::kill(pid_, sig);
}

std::optional<int> daemon_process::wait_exit(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!exit_code_) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() >= until) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return exit_code_;
}

std::string daemon_process::output() const {
    std::ifstream in(log_file_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> complete_lines(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    const std::string text = s.str();
    std::vector<std::string> out;
    std::size_t begin = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', begin)) {
        out.push_back(text.substr(begin, nl - begin));
        begin = nl + 1;
    }
    return out;
}

temp_dir::temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/sluice-e2e-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace sluice::test
