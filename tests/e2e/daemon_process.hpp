#pragma once

// A long-running `sluice` process for end-to-end tests: started in the background with its
// output in a file, signalled, waited for with a deadline. The destructor SIGKILLs what is still
// running, so a failing test never leaves a daemon behind.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace sluice::test {

class daemon_process {
public:
    // Starts the sluice binary under test with `args`; stdout and stderr go to `log_file`
    // (appended, so restarts of one daemon share one log).
    daemon_process(const std::vector<std::string>& args, std::filesystem::path log_file,
                   const std::vector<std::string>& extra_env = {});
    ~daemon_process();
    daemon_process(const daemon_process&) = delete;
    daemon_process& operator=(const daemon_process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    // The exit code (128 + signal when killed) once the process ended within `limit`.
    std::optional<int> wait_exit(std::chrono::milliseconds limit);
    // Everything the process (and earlier processes sharing the log file) wrote so far.
    std::string output() const;

private:
    pid_t pid_ = -1;
    std::filesystem::path log_file_;
    std::optional<int> exit_code_;
};

// The complete lines of a file that another process appends to (a partial last line is left
// out); empty when the file does not exist yet.
std::vector<std::string> complete_lines(const std::filesystem::path& file);

// A fresh temp directory, removed by the destructor.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace sluice::test
