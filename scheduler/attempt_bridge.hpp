#pragma once

// Runs one task attempt through a task_runner. This is the only engine file that sees
// task_runner.hpp: that header and run_store.hpp both declare sluice::scheduler::log_line, so no
// translation unit can include both. The engine talks to attempts through the neutral types here.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "config/spec.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "scheduler/attempt_end.hpp"

namespace sluice::scheduler {

class task_runner;
class job_launcher;
class stop_signal;

// Finds the runner of a task kind (daemon/ wraps etl::registry). Called on the control loop when
// an attempt starts; an error fails the attempt with that error's class.
using runner_resolver =
    std::function<core::result<std::shared_ptr<task_runner>>(const config::task_spec&)>;

enum class attempt_stop_reason { canceled, timed_out, shutdown };

// The stop request of one attempt, shared by the control loop and the worker thread.
class attempt_stop {
public:
    attempt_stop();
    // The first reason wins; thread-safe.
    void request(attempt_stop_reason why);
    bool requested() const;
    std::optional<attempt_stop_reason> reason() const;
    const stop_signal& signal() const { return *signal_; }

private:
    std::shared_ptr<stop_signal> signal_;
};

// One line of task output: stream 0 stdout, 1 stderr, 2 sluice's own notes.
struct attempt_output {
    core::time_point at;
    int stream = 0;
    std::string text;
};

struct attempt_request {
    // Keeps what config, job and task point into alive while the attempt runs (a reload may
    // replace the job's definition meanwhile).
    std::shared_ptr<const void> keep_alive;
    const config::sluice_config* config = nullptr;
    const config::job_spec* job = nullptr;
    const config::task_spec* task = nullptr;
    core::run_id run;
    core::task_instance_id task_instance;
    int try_number = 1;
    std::optional<core::sys_seconds> logical_time;
    std::optional<core::sys_seconds> data_interval_start;
    std::optional<core::sys_seconds> data_interval_end;
    std::map<std::string, std::string> params;
    std::map<std::string, std::string> variables;
    std::set<std::string> secret_variables;  // keys of `variables`
    std::optional<core::time_point> deadline;
    const core::clock* clock = nullptr;
    std::function<void(attempt_output)> on_output;
    std::function<void(std::string_view name, double value)> on_metric;
    // trigger_job: starts and follows child runs; owned by the engine.
    job_launcher* launcher = nullptr;
    // The checkpoints of this (job, task) in the store, by key (blocking store calls).
    std::function<core::result<std::optional<std::string>>(std::string_view key)> get_checkpoint;
    std::function<core::result<void>(std::string_view key, std::string_view value_json)>
        put_checkpoint;
    // A progress report of a copy attempt as a JSON object (rows_read, rows_written, bytes,
    // batches, mark, rows_per_second, lag_seconds, done).
    std::function<void(std::string progress_json)> on_progress;
    // The outputs of the task's upstream tasks, by task then name.
    std::map<std::string, std::map<std::string, std::string>> upstream_outputs;
};

struct attempt_result {
    attempt_end end = attempt_end::success;
    std::string message;
    std::optional<int> exit_code;
    // A success's published values as a JSON object of strings ("" when it published none),
    // checked against the per-task bounds (config/task_outputs.hpp).
    std::string outputs_json;
};

// Runs the attempt (blocking, on a worker thread). A runner that throws is a permanent failure
// carrying the exception's message; the stop reason overrides what the runner reports when it
// stopped because it was asked to.
attempt_result run_attempt(task_runner& runner, const attempt_request& request,
                           const attempt_stop& stop);

}  // namespace sluice::scheduler
