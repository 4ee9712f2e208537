#pragma once

// What the scheduler needs to run one task attempt. The scheduler owns this interface; etl/
// implements it per task kind (noop, shell, sql, copy, http, trigger_job) and daemon/ fills the
// registry. Calls are blocking and run on the blocking pool, never on the control loop.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/spec.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "scheduler/job_launcher.hpp"

namespace sluice::scheduler {

// Asked by the scheduler to stop an attempt (run canceled, attempt timed out, daemon shutting
// down). Runners poll it or register a callback; it only ever goes from "run" to "stop".
class stop_signal {
public:
    enum class reason { none, canceled, timed_out, shutdown };

    // Requests a stop; the first reason wins. Thread-safe.
    void request(reason why) {
        int expected = static_cast<int>(reason::none);
        reason_.compare_exchange_strong(expected, static_cast<int>(why));
    }
    bool requested() const { return reason_.load() != static_cast<int>(reason::none); }
    reason why() const { return static_cast<reason>(reason_.load()); }

private:
    std::atomic<int> reason_{static_cast<int>(reason::none)};
};

// One line of task output, stamped when it was read (the store keeps it as a log_line).
struct output_line {
    core::time_point at;
    enum class stream { out, err, system } source = stream::out;
    std::string text;
};

// The checkpoints of the attempt's own (job, task) in the run-state store (table checkpoints),
// by key. The engine implements it; calls block on the store (runners call them on the worker
// thread). The copy task mirrors its high-water mark here after the sink committed it.
class checkpoint_access {
public:
    virtual ~checkpoint_access() = default;
    virtual core::result<std::optional<std::string>> get(std::string_view key) = 0;
    virtual core::result<void> put(std::string_view key, std::string_view value_json) = 0;
};

// Live progress of a data-moving attempt (copy), reported while it runs and once at the end.
// The engine stores the last one on the task instance (metrics) and publishes each as a
// `task.progress` event.
struct task_progress {
    std::uint64_t rows_read = 0;    // rows read for the first time (after the mark)
    std::uint64_t rows_reread = 0;  // rows read again: the lookback window, a replayed batch
    std::uint64_t rows_written = 0;
    std::uint64_t rows_deleted = 0;  // sink rows whose key left the source (deletes: detect)
    std::uint64_t bytes = 0;         // cell bytes read
    std::uint64_t batches = 0;
    std::optional<std::string> mark;    // the high-water mark, JSON text
    double rows_per_second = 0;         // written, over the attempt so far
    std::optional<double> lag_seconds;  // source max cursor - mark (time cursors)
    bool done = false;                  // the attempt's last report
};

// Everything one attempt may see. References stay valid for the duration of run().
struct task_context {
    const config::sluice_config& config;
    const config::job_spec& job;
    const config::task_spec& task;
    core::run_id run;
    core::task_instance_id task_instance;
    int try_number = 1;
    std::optional<core::sys_seconds> logical_time;
    std::optional<core::sys_seconds> data_interval_start;
    std::optional<core::sys_seconds> data_interval_end;
    std::map<std::string, std::string> params;     // validated trigger params, as text
    std::map<std::string, std::string> variables;  // store variables, as text
    // The keys of `variables` that are secret: a shell task receives them only when it names
    // them in `secrets` (docs/task-kinds.md#environment).
    std::set<std::string> secret_variables;
    // The attempt's deadline (task timeout); the runner stops work at this instant.
    std::optional<core::time_point> deadline;
    const stop_signal& stop;
    const core::clock& clock;
    // Output lines and metrics (`::sluice metric NAME=VALUE`) as they happen; thread-safe sinks.
    std::function<void(output_line)> on_log;
    std::function<void(std::string_view name, double value)> on_metric;

    // trigger_job (kinds): starts and follows runs of other jobs. Set by the engine; null where
    // no engine runs the attempt (unit tests of other kinds), and the trigger_job kind then
    // fails permanently.
    job_launcher* launcher = nullptr;
    // The (job, task) checkpoints in the store; null when the host has no store (tests).
    checkpoint_access* checkpoints = nullptr;
    // Progress reports (throttled by the runner); thread-safe; empty = not observed.
    std::function<void(const task_progress&)> on_progress = {};
    // The outputs of every upstream task of the run (direct and transitive), by task then name,
    // as stored with their successes (docs/task-kinds.md#values-between-tasks).
    std::map<std::string, std::map<std::string, std::string>> upstream_outputs = {};
};

// How an attempt ended. A failure carries its class: transient failures are retried per policy,
// permanent ones fail at once.
struct task_outcome {
    enum class status { success, failed, timed_out, canceled } result = status::success;
    core::error_class error_class = core::error_class::permanent;
    std::string message;           // for the operator; never contains secrets
    std::optional<int> exit_code;  // shell tasks
    // The values the task publishes, in the order it published them (a later value of a name
    // replaces an earlier one); stored only with a success.
    std::vector<std::pair<std::string, std::string>> outputs = {};

    static task_outcome ok() { return {}; }
    static task_outcome failure(core::error_class cls, std::string message) {
        return {status::failed, cls, std::move(message), std::nullopt, {}};
    }
};

// Runs one attempt of one task kind to completion (blocking).
class task_runner {
public:
    virtual ~task_runner() = default;
    virtual task_outcome run(const task_context& context) = 0;
    // False for kinds that never read context.variables: the engine then skips loading them
    // from the store for each attempt (a round trip per task on the dispatch hot path).
    virtual bool uses_variables() const { return true; }
    // True for kinds whose run() returns at once without I/O (noop): the engine may then run
    // their attempts on the control loop instead of the task pool. Never true for anything that
    // can block.
    virtual bool never_blocks() const { return false; }
};

}  // namespace sluice::scheduler
