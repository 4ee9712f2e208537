#include "daemon/notify/delivery.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "connectors/http_client.hpp"
#include "daemon/notify/notification.hpp"
#include "etl/inherited_environment.hpp"

namespace sluice::daemon::notify {

namespace {

// sysexits.h codes after which a later try may succeed.
constexpr int ex_unavailable = 69;
constexpr int ex_oserr = 71;
constexpr int ex_ioerr = 74;
constexpr int ex_tempfail = 75;
// How often a running sendmail is checked for its exit.
constexpr auto exit_poll_interval = std::chrono::milliseconds(5);

struct webhook_target {
    connectors::http_endpoint endpoint;
    std::string target;  // path and query: secret
};

core::result<webhook_target> split_url(const std::string& url) {
    const std::string shown = config::redact_webhook_url(url);
    webhook_target t;
    std::size_t rest = 0;
    if (url.rfind("https://", 0) == 0) {
        t.endpoint.tls = true;
        t.endpoint.port = 443;
        rest = 8;
    } else if (url.rfind("http://", 0) == 0) {
        t.endpoint.port = 80;
        rest = 7;
    } else {
        return core::error::permanent("webhook " + shown + " is not an http(s) URL");
    }
    std::size_t end = url.find_first_of("/?#", rest);
    if (end == std::string::npos) {
        end = url.size();
    }
    std::string authority = url.substr(rest, end - rest);
    if (authority.find('@') != std::string::npos) {
        return core::error::permanent("webhook " + shown +
                                      ": user:password in the URL is not supported");
    }
    std::string port;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) {
            return core::error::permanent("webhook " + shown + ": malformed IPv6 host");
        }
        t.endpoint.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':') {
            port = authority.substr(close + 2);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
        t.endpoint.host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    } else {
        t.endpoint.host = authority;
    }
    if (!port.empty()) {
        try {
            std::size_t used = 0;
            const int p = std::stoi(port, &used);
            if (used != port.size() || p <= 0 || p > 65535) {
                throw std::out_of_range(port);
            }
            t.endpoint.port = p;
        } catch (const std::exception&) {
            return core::error::permanent("webhook " + shown + ": invalid port");
        }
    }
    if (t.endpoint.host.empty()) {
        return core::error::permanent("webhook " + shown + ": missing host");
    }
    t.target = url.substr(end);
    if (const auto hash = t.target.find('#'); hash != std::string::npos) {
        t.target.erase(hash);
    }
    if (t.target.empty() || t.target[0] != '/') {
        t.target.insert(0, "/");
    }
    return t;
}

// A file descriptor closed by the destructor.
struct owned_fd {
    int fd = -1;
    ~owned_fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

std::string read_all(int fd) {
    std::string out;
    ::lseek(fd, 0, SEEK_SET);
    char buf[1024];
    while (out.size() < max_sendmail_output) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

}  // namespace

core::result<void> post_webhook(const std::string& url, const std::string& json_body,
                                core::duration timeout) {
    auto target = split_url(url);
    if (!target) {
        return target.error();
    }
    const std::string shown = config::redact_webhook_url(url);
    connectors::http_client client(target->endpoint, timeout, timeout);
    auto head =
        client.send("POST", target->target, {{"Content-Type", "application/json"}}, json_body);
    if (!head) {
        // http_client names host:port only, never the path.
        return core::error{head.error().cls, "webhook " + shown + ": " + head.error().message};
    }
    const int status = head->status;
    auto answer = client.read_body(64 * 1024);
    if (status >= 200 && status < 300) {
        return {};
    }
    std::string quoted = answer ? *answer : std::string();
    if (quoted.size() > max_quoted_answer) {
        quoted = clip_log_line(quoted.substr(0, max_quoted_answer));
    }
    for (char& c : quoted) {
        if (static_cast<unsigned char>(c) < 0x20) {
            c = ' ';
        }
    }
    std::string message = "webhook " + shown + " answered HTTP " + std::to_string(status);
    if (!quoted.empty()) {
        message += ": " + quoted;
    }
    const bool transient = status == 408 || status == 429 || status >= 500;
    return transient ? core::error::transient(message) : core::error::permanent(message);
}

core::result<void> run_sendmail(const std::filesystem::path& program, const std::string& message,
                                core::duration timeout) {
    // Standard input and output are memory files, not pipes: a child another thread forks
    // meanwhile (a shell task's keeper) inherits our descriptors, and a pipe end it holds would
    // keep sendmail from ever seeing the end of its input.
    owned_fd input{::memfd_create("sluice-mail", MFD_CLOEXEC)};
    owned_fd output{::memfd_create("sluice-sendmail-output", MFD_CLOEXEC)};
    if (input.fd < 0 || output.fd < 0) {
        return core::error::transient(std::string("cannot create the mail buffer: ") +
                                      std::strerror(errno));
    }
    for (std::size_t done = 0; done < message.size();) {
        const ssize_t n = ::write(input.fd, message.data() + done, message.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return core::error::transient(std::string("cannot buffer the mail: ") +
                                          std::strerror(errno));
        }
        done += static_cast<std::size_t>(n);
    }
    ::lseek(input.fd, 0, SEEK_SET);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input.fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output.fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output.fd, STDERR_FILENO);
    // Asio's sockets are not close-on-exec: without this sendmail would hold the API's port
    // and the store's connections (docs/task-kinds.md#environment).
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigset_t all;
    ::sigemptyset(&none);
    ::sigfillset(&all);
    // The pool thread's mask and the daemon's dispositions are not sendmail's business.
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const std::string path = program.string();
    std::vector<std::string> args{path, "-t", "-i"};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    // The base environment only: the daemon's own holds the configuration's passwords.
    const auto environment = etl::environment_entries(etl::inherited_environment({}));
    std::vector<char*> envp;
    for (const auto& entry : environment) {
        envp.push_back(const_cast<char*>(entry.c_str()));
    }
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int spawned =
        ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (spawned != 0) {
        const std::string why = "cannot run " + path + ": " + std::strerror(spawned);
        return spawned == EAGAIN || spawned == ENOMEM ? core::error::transient(why)
                                                      : core::error::permanent(why);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return core::error::transient("lost the exit status of " + path + ": " +
                                          std::strerror(errno));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return core::error::transient(path + " did not finish within " +
                                          core::format_duration(timeout) + "; killed");
        }
        std::this_thread::sleep_for(exit_poll_interval);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return {};
    }
    std::string why = path;
    if (WIFEXITED(status)) {
        why += " exited with status " + std::to_string(WEXITSTATUS(status));
    } else {
        why += " was killed by signal " + std::to_string(WTERMSIG(status));
    }
    if (const std::string said = read_all(output.fd); !said.empty()) {
        why += ": " + said;
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const bool transient = code == -1 || code == ex_tempfail || code == ex_unavailable ||
                           code == ex_oserr || code == ex_ioerr;
    return transient ? core::error::transient(why) : core::error::permanent(why);
}

}  // namespace sluice::daemon::notify
