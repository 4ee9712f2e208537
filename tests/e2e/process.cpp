#include "process.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sluice::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

pid_t spawn_process(const std::string& program, const std::vector<std::string>& args,
                    const std::vector<std::string>& extra_env, int out_fd, int err_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

    std::vector<std::string> argv_storage{program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) {
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

    pid_t pid = 0;
    const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + program);
    }
    return pid;
}

process_result run_process(const std::string& program, const std::vector<std::string>& args,
                           const std::vector<std::string>& extra_env) {
    // Output goes to temp files rather than pipes so a chatty child can never deadlock us.
    char out_path[] = "/tmp/sluice-e2e-out-XXXXXX";
    char err_path[] = "/tmp/sluice-e2e-err-XXXXXX";
    const int out_fd = mkstemp(out_path);
    const int err_fd = mkstemp(err_path);
    if (out_fd < 0 || err_fd < 0) {
        throw std::runtime_error("mkstemp failed");
    }
    pid_t pid = -1;
    try {
        pid = spawn_process(program, args, extra_env, out_fd, err_fd);
    } catch (...) {
        close(out_fd);
        close(err_fd);
        throw;
    }
    close(out_fd);
    close(err_fd);
    int status = 0;
    waitpid(pid, &status, 0);
    process_result result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = slurp(out_path);
    result.err = slurp(err_path);
    std::remove(out_path);
    std::remove(err_path);
    return result;
}

process_result run_sluice(const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env) {
    return run_process(SLUICE_BINARY, args, extra_env);
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

}  // namespace sluice::test
