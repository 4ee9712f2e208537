#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/spec.hpp"
#include "scheduler/task_runner.hpp"

namespace sluice::test {

// A temporary directory, removed with everything in it.
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

// One attempt of task "t" of job `job` ("j" by default) from a YAML configuration whose base
// directory is a fresh temp dir: the context, and the log lines and metrics the runner reported.
class attempt_fixture {
public:
    explicit attempt_fixture(const std::string& yaml, const std::string& job = "j");

    scheduler::task_context& context() { return *context_; }
    scheduler::stop_signal& stop() { return stop_; }
    const std::filesystem::path& base_dir() const { return dir_.path(); }

    std::vector<scheduler::output_line> lines() const;
    // The text of the lines of one stream, in order.
    std::vector<std::string> texts(scheduler::output_line::stream source) const;
    std::vector<std::pair<std::string, double>> metrics() const;

    // Runs the attempt and measures how long it took.
    scheduler::task_outcome run(scheduler::task_runner& runner);
    std::chrono::milliseconds elapsed() const { return elapsed_; }

private:
    temp_dir dir_;
    config::sluice_config config_;
    scheduler::stop_signal stop_;
    core::system_clock clock_;
    std::unique_ptr<scheduler::task_context> context_;
    mutable std::mutex mutex_;
    std::vector<scheduler::output_line> lines_;
    std::vector<std::pair<std::string, double>> metrics_;
    std::chrono::milliseconds elapsed_{0};
};

// The value of a required environment variable; the test FAILs (never skips) without it.
std::string required_env(const char* name);

// True while a process with this pid exists and is not a zombie.
bool process_alive(int pid);

}  // namespace sluice::test
