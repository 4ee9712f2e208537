#include "http_daemon.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"

extern char** environ;

namespace sluice::test {

namespace {
// The daemon opens and migrates its store before it listens; give a slow CI machine time.
constexpr auto startup_budget = std::chrono::seconds(30);
}  // namespace

http_daemon::http_daemon(const std::string& config_yaml, const std::vector<std::string>& extra_env,
                         bool https) {
    char tmpl[] = "/tmp/sluice-e2e-http-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    dir_ = tmpl;
    std::ofstream(dir_ / "sluice.yaml") << config_yaml;
    const std::string config = (dir_ / "sluice.yaml").string();
    const std::string port_file = (dir_ / "port").string();
    const std::string log_file = (dir_ / "stderr.log").string();

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> args{SLUICE_BINARY, "serve", "-c", config, "--port-file", port_file};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e) {
        env_storage.emplace_back(*e);
    }
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& e : env_storage) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, SLUICE_BINARY, &actions, nullptr, argv.data(), envp.data()) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        throw std::runtime_error("cannot start " SLUICE_BINARY);
    }
    posix_spawn_file_actions_destroy(&actions);

    const auto deadline = std::chrono::steady_clock::now() + startup_budget;
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(port_file);
        int port = 0;
        if (in >> port && port > 0) {
            port_ = static_cast<std::uint16_t>(port);
            break;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Listening comes before the scheduler has loaded its jobs: wait until ready, as a
    // deployment's readiness probe would.
    auto ready = [&] {
        if (!https) {
            return http_call(port_, "GET", "/readyz").status == 200;
        }
        const auto r = run_process(
            "/usr/bin/curl", {"-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                              "https://127.0.0.1:" + std::to_string(port_) + "/readyz"});
        return r.out == "200";
    };
    while (port_ != 0 && std::chrono::steady_clock::now() < deadline) {
        if (ready()) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

http_daemon::~http_daemon() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string http_daemon::log() const {
    std::ifstream in(dir_ / "stderr.log");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

int http_daemon::stop() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
    }
    return exit_code_;
}

}  // namespace sluice::test
