#pragma once

// A scripted task runner for engine tests: per task, what each try does (succeed, fail
// transiently or permanently, sleep, hang until stopped), and a record of every attempt. Only
// fake_runner.cpp sees task_runner.hpp (its log_line clashes with run_store.hpp's).

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::scheduler {
class task_runner;
}

namespace sluice::test {

struct fake_step {
    enum class kind { succeed, fail_transient, fail_permanent, sleep, hang } what = kind::succeed;
    std::chrono::milliseconds sleep{0};  // kind::sleep: then succeed
    // kind::sleep ignoring stop requests until this long passed (a task that ignores SIGTERM).
    bool ignore_stop = false;

    static fake_step ok() { return {}; }
    static fake_step transient() { return {kind::fail_transient}; }
    static fake_step permanent() { return {kind::fail_permanent}; }
    static fake_step sleep_for(std::chrono::milliseconds d) { return {kind::sleep, d}; }
    static fake_step hang() { return {kind::hang}; }
};

struct fake_attempt {
    std::string job;
    std::string task;
    std::int64_t run = 0;
    int try_number = 0;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point ended;
    std::string outcome;      // success | failed | timed_out | canceled
    std::string stop_reason;  // "" | canceled | timed_out | shutdown
    std::map<std::string, std::string> params;
    bool had_deadline = false;
};

class fake_script {
public:
    // Try n uses steps[n-1]; tries beyond the list use the last step (or success when empty).
    void set(const std::string& task, std::vector<fake_step> steps);
    fake_step step_for(const std::string& task, int try_number) const;

    void record_start();
    void record(fake_attempt a);
    std::vector<fake_attempt> attempts() const;
    std::vector<fake_attempt> attempts_of(const std::string& task) const;
    int max_concurrent() const;
    int running() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<fake_step>> steps_;
    std::vector<fake_attempt> attempts_;
    int running_ = 0;
    int max_running_ = 0;
};

std::shared_ptr<scheduler::task_runner> make_fake_runner(std::shared_ptr<fake_script> script);

}  // namespace sluice::test
