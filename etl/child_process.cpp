#include "etl/child_process.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sluice::etl {

namespace {

// Why the child could not exec, sent to the parent through a close-on-exec pipe.
struct exec_failure {
    int stage = 0;  // 1 = chdir, 2 = exec, 3 = setup
    int error = 0;
};

void close_fd(int& fd) {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

// Everything the child needs, prepared before fork: after fork only async-signal-safe calls.
struct exec_plan {
    std::string path;
    std::vector<char*> argv;
    std::vector<char*> envp;
    const char* cwd = nullptr;
};

// The signal the kernel sends the keeper when the daemon dies (PR_SET_PDEATHSIG). Any signal
// only makes the keeper look at getppid(), so a task that signals its own group cannot fool it.
constexpr int parent_death_signal = SIGUSR2;

// The first descriptor the keeper keeps above the standard three: its report pipe.
constexpr int report_fd = 3;

// Closes every descriptor from `first` up, async-signal-safely. A keeper never execs, so
// close-on-exec does not help it: without this it holds every descriptor the daemon had open at
// fork time, among them other tasks' pipe ends (whose readers then wait for this task to end
// before they see end-of-file) and, through its command, Asio's sockets, which are not
// close-on-exec at all (a detached grandchild would keep the API port bound).
void close_descriptors_from(int first) {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0) {
        return;
    }
#endif
    // Kernels before 5.9: list /proc/self/fd with getdents64 (opendir allocates), closing
    // entries as they are listed; the directory is read again until a pass closes nothing.
    const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        rlimit limit{};
        const rlim_t top =
            ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                ? limit.rlim_cur
                : 65536;
        for (rlim_t fd = static_cast<rlim_t>(first); fd < top; ++fd) {
            ::close(static_cast<int>(fd));
        }
        return;
    }
    alignas(8) char buf[4096];
    bool closed_any = true;
    while (closed_any) {
        closed_any = false;
        ::lseek(dir, 0, SEEK_SET);
        for (;;) {
            const long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            for (long at = 0; at < n;) {
                const auto* entry = reinterpret_cast<const dirent64*>(buf + at);
                at += entry->d_reclen;
                int fd = 0;
                bool number = entry->d_name[0] != '\0';
                for (const char* c = entry->d_name; *c != '\0'; ++c) {
                    number = number && *c >= '0' && *c <= '9';
                    fd = fd * 10 + (*c - '0');
                }
                if (number && fd >= first && fd != dir) {
                    ::close(fd);
                    closed_any = true;
                }
            }
        }
    }
    ::close(dir);
}

// Moves the keeper's own descriptors where it wants them: the null device and the two pipes on
// 0-2, the report pipe on `report_fd` (close-on-exec, so only the keeper keeps it), every other
// descriptor closed. They are first lifted above `report_fd`, since any of them may sit on 0-3 in
// a daemon started with closed standard descriptors.
bool arrange_descriptors(int null_fd, int out_w, int err_w, int report_w) {
    int* mine[] = {&null_fd, &out_w, &err_w, &report_w};
    for (int* fd : mine) {
        if (*fd <= report_fd) {
            const int lifted = ::fcntl(*fd, F_DUPFD_CLOEXEC, report_fd + 1);
            if (lifted < 0) {
                return false;
            }
            *fd = lifted;
        }
    }
    if (::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(out_w, STDOUT_FILENO) < 0 ||
        ::dup2(err_w, STDERR_FILENO) < 0 || ::dup3(report_w, report_fd, O_CLOEXEC) < 0) {
        return false;
    }
    close_descriptors_from(report_fd + 1);
    return true;
}

// Mirrors the command's wait status as the keeper's own, so the daemon sees "exit 3" or "killed by
// SIGTERM" exactly as if it had started the command itself.
[[noreturn]] void exit_like(int status) {
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);  // the command dumped core already, if it was to
        sigset_t only;
        ::sigemptyset(&only);
        ::sigaddset(&only, sig);
        ::kill(::getpid(), sig);
        ::sigprocmask(SIG_UNBLOCK, &only, nullptr);
        ::_exit(128 + sig);  // a signal whose default is not to terminate
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

// The command proper, forked by the keeper: default signal state, then exec.
[[noreturn]] void exec_command(const exec_plan& plan, pid_t keeper, int report_w) {
    exec_failure failure;
    auto fail = [&](int stage) {
        failure.stage = stage;
        failure.error = errno;
        [[maybe_unused]] const auto n = ::write(report_w, &failure, sizeof failure);
        ::_exit(127);
    };
    // A keeper killed outright (OOM killer) takes the command with it.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        fail(3);
    }
    if (::getppid() != keeper) {
        ::_exit(127);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(plan.path.c_str(), plan.argv.data(), plan.envp.data());
    fail(2);
    ::_exit(127);
}

// The forked child is a small keeper, not the command: it leads the process group, starts the
// command in it and waits. PR_SET_PDEATHSIG only reaches a direct child, so if the daemon is
// killed (kill -9, OOM) the keeper kills the whole group: grandchildren such as the `sleep` in
// `sh -c "...; sleep 60"` never outlive the daemon and never overlap a retried attempt.
// After fork only async-signal-safe calls are made (the daemon is multi-threaded).
[[noreturn]] void run_child(const exec_plan& plan, pid_t parent, int null_fd, int out_w, int err_w,
                            int report_w) {
    exec_failure failure;
    auto fail = [&](int stage) {
        failure.stage = stage;
        failure.error = errno;
        [[maybe_unused]] const auto n = ::write(report_w, &failure, sizeof failure);
        ::_exit(127);
    };
    // First of all, before another thread's descriptors can matter to anyone.
    if (!arrange_descriptors(null_fd, out_w, err_w, report_w)) {
        fail(3);
    }
    report_w = report_fd;
    ::setpgid(0, 0);
    // Every signal blocked and waited for below; dispositions back to default so neither the
    // keeper nor the command inherits the daemon's (SIG_IGN survives exec).
    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::sigaction(sig, &dfl, nullptr);
        }
    }
    if (::prctl(PR_SET_PDEATHSIG, parent_death_signal) != 0) {
        fail(3);
    }
    // The parent may have died between fork and prctl: then nobody will ever kill us.
    if (::getppid() != parent) {
        ::_exit(127);
    }
    if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) {
        fail(1);
    }
    const pid_t keeper = ::getpid();
    const pid_t command = ::fork();
    if (command < 0) {
        fail(3);
    }
    if (command == 0) {
        exec_command(plan, keeper, report_w);
    }
    // The daemon reads the report pipe until end-of-file: only the command's copy (closed on a
    // successful exec) may keep it open.
    ::close(report_w);
    while (true) {
        siginfo_t info{};
        const int sig = ::sigwaitinfo(&all, &info);
        if (::getppid() != parent) {
            ::kill(-keeper, SIGKILL);  // the group, the keeper included
            ::_exit(137);
        }
        if (sig == SIGCHLD || sig < 0) {
            int status = 0;
            pid_t r = 0;
            do {
                r = ::waitpid(command, &status, WNOHANG);
            } while (r < 0 && errno == EINTR);
            if (r == command) {
                exit_like(status);
            }
            if (r < 0) {
                ::_exit(127);
            }
        }
        // Anything else (the daemon's SIGTERM to the group, a task signalling its own group) is
        // meant for the command, which receives it itself.
    }
}

std::string lookup_path(const std::vector<std::string>& environment) {
    for (const auto& entry : environment) {
        if (entry.rfind("PATH=", 0) == 0) {
            return entry.substr(5);
        }
    }
    return "/usr/local/bin:/usr/bin:/bin";
}

}  // namespace

std::optional<std::string> find_program(const std::string& program, const std::string& path_list) {
    auto executable = [](const std::string& p) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
    };
    if (program.find('/') != std::string::npos) {
        return program;  // relative paths resolve against the child's cwd at exec time
    }
    std::size_t begin = 0;
    while (begin <= path_list.size()) {
        auto end = path_list.find(':', begin);
        if (end == std::string::npos) {
            end = path_list.size();
        }
        const std::string dir = path_list.substr(begin, end - begin);
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        if (executable(candidate)) {
            return candidate;
        }
        begin = end + 1;
    }
    return std::nullopt;
}

std::string signal_name(int sig) {
    if (const char* abbrev = ::sigabbrev_np(sig)) {
        return std::string("SIG") + abbrev;
    }
    return "signal " + std::to_string(sig);
}

core::result<std::unique_ptr<child_process>> child_process::spawn(const child_spec& spec) {
    if (spec.argv.empty() || spec.argv.front().empty()) {
        return core::error::permanent("no program to run");
    }
    exec_plan plan;
    const std::string& program = spec.argv.front();
    auto path = find_program(program, lookup_path(spec.environment));
    if (!path) {
        return core::error::permanent("program '" + program +
                                      "' not found in PATH; give its full path in argv");
    }
    plan.path = *path;
    for (const auto& arg : spec.argv) {
        plan.argv.push_back(const_cast<char*>(arg.c_str()));
    }
    plan.argv.push_back(nullptr);
    for (const auto& entry : spec.environment) {
        plan.envp.push_back(const_cast<char*>(entry.c_str()));
    }
    plan.envp.push_back(nullptr);
    const std::string cwd = spec.cwd ? spec.cwd->string() : std::string();
    plan.cwd = spec.cwd ? cwd.c_str() : nullptr;

    // Close-on-exec everywhere: a child spawned concurrently by another thread must not inherit
    // our pipe ends, or our reader would never see end-of-file.
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    int report[2] = {-1, -1};
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    auto cleanup = [&] {
        for (int* fd : {&out[0], &out[1], &err[0], &err[1], &report[0], &report[1], &null_fd}) {
            close_fd(*fd);
        }
    };
    if (null_fd < 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
        ::pipe2(report, O_CLOEXEC) != 0) {
        const int e = errno;
        cleanup();
        return core::error::transient(std::string("cannot create pipes for the child: ") +
                                      std::strerror(e));
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        cleanup();
        return core::error::transient(std::string("cannot start a process: ") + std::strerror(e));
    }
    if (pid == 0) {
        run_child(plan, parent, null_fd, out[1], err[1], report[1]);
    }
    // Also from the parent, so the group exists before we might signal it.
    ::setpgid(pid, pid);
    close_fd(out[1]);
    close_fd(err[1]);
    close_fd(report[1]);
    close_fd(null_fd);
    std::unique_ptr<child_process> child(new child_process(pid, out[0], err[0]));
    out[0] = -1;
    err[0] = -1;

    exec_failure failure;
    ssize_t n = 0;
    do {
        n = ::read(report[0], &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    close_fd(report[0]);
    if (n == static_cast<ssize_t>(sizeof failure)) {
        child.reset();  // reaps the failed child
        const std::string reason = std::strerror(failure.error);
        switch (failure.stage) {
            case 1:
                return core::error::permanent("cannot change to directory '" + cwd +
                                              "': " + reason);
            case 2:
                return core::error::permanent("cannot run '" + plan.path + "': " + reason);
            default:
                return core::error::transient("cannot prepare the child process: " + reason);
        }
    }
#ifdef SYS_pidfd_open
    child->exit_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#endif
    ::fcntl(child->out_fd_, F_SETFL, ::fcntl(child->out_fd_, F_GETFL) | O_NONBLOCK);
    ::fcntl(child->err_fd_, F_SETFL, ::fcntl(child->err_fd_, F_GETFL) | O_NONBLOCK);
    return child;
}

child_process::~child_process() {
    if (!status_) {
        signal_group(SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    close_fd(out_fd_);
    close_fd(err_fd_);
    close_fd(exit_fd_);
}

void child_process::close_stdout() {
    close_fd(out_fd_);
}

void child_process::close_stderr() {
    close_fd(err_fd_);
}

void child_process::signal_group(int sig) const {
    ::kill(-pid_, sig);
}

bool child_process::group_exists() const {
    return ::kill(-pid_, 0) == 0 || errno == EPERM;
}

std::optional<int> child_process::try_reap() {
    if (!status_) {
        int status = 0;
        pid_t r = 0;
        do {
            r = ::waitpid(pid_, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == pid_) {
            status_ = status;
        } else if (r < 0 && errno == ECHILD) {
            // Someone else reaped it (SIGCHLD set to SIG_IGN makes the kernel do so).
            lost_ = true;
            status_ = 0;
        }
    }
    return status_;
}

}  // namespace sluice::etl
