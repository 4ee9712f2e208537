#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/error.hpp"

namespace sluice::etl {

// What to start: the program and its arguments, its whole environment, its directory.
struct child_spec {
    std::vector<std::string> argv;         // argv[0] without '/' is looked up in the child's PATH
    std::vector<std::string> environment;  // "KEY=VALUE" entries
    std::optional<std::filesystem::path> cwd;
};

// A child process in its own process group (pgid == pid) with stdin on /dev/null and stdout and
// stderr on non-blocking pipes. The process forked is a small keeper that starts the command in
// the group and exits with the command's status; when the thread that spawned it dies
// (PR_SET_PDEATHSIG, so also when the daemon is killed) the keeper SIGKILLs the whole group, so
// no grandchild outlives the daemon. The spawning thread must outlive the child, which holds
// for a runner that waits for its child. Not thread-safe.
class child_process {
public:
    // fork + exec. Permanent errors: program not found or not executable, missing cwd;
    // transient: the system is out of processes or descriptors.
    static core::result<std::unique_ptr<child_process>> spawn(const child_spec& spec);

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    // SIGKILLs the whole group and reaps the child when it is still running.
    ~child_process();

    pid_t pid() const { return pid_; }
    // Read ends; -1 once closed.
    int stdout_fd() const { return out_fd_; }
    int stderr_fd() const { return err_fd_; }
    void close_stdout();
    void close_stderr();
    // Becomes readable when the child exits (a pidfd), so a poll loop wakes at once; -1 on
    // kernels without pidfd_open (before Linux 5.3), where the caller polls on a timer.
    int exit_fd() const { return exit_fd_; }

    // Sends `sig` to every process of the group (the child and what it started).
    void signal_group(int sig) const;
    // True while any process of the group exists (zombies included).
    bool group_exists() const;

    // The wait status once the child exited (reaped without blocking), nullopt while it runs.
    std::optional<int> try_reap();
    // True when the child was reaped by someone else, so its exit status is unknown.
    bool status_lost() const { return lost_; }

private:
    child_process(pid_t pid, int out_fd, int err_fd)
        : pid_(pid), out_fd_(out_fd), err_fd_(err_fd) {}

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    int exit_fd_ = -1;
    std::optional<int> status_;
    bool lost_ = false;
};

// Looks `program` up like execvp would: as is when it contains '/', else in the ':'-separated
// `path_list`. nullopt when no executable file is found.
std::optional<std::string> find_program(const std::string& program, const std::string& path_list);

// "SIGTERM" for 15; "signal 77" for numbers without a name.
std::string signal_name(int sig);

}  // namespace sluice::etl
