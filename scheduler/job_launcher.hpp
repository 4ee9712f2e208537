#pragma once

// How a task starts and follows a run of another job (the `trigger_job` task kind). The
// scheduler owns this interface and the engine implements it (engine_launcher.cpp); a runner
// receives it through task_context::launcher. Every call blocks the calling thread (a task pool
// thread) and never the control loop: the engine does the work on the loop and hands the result
// back. Kept free of run_store.hpp and task_runner.hpp so both sides can include it.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace sluice::scheduler {

struct launch_request {
    std::string job;
    std::map<std::string, std::string> params;  // as text; validated against the job's params
    // The same key returns the same run (a retried attempt re-attaches to its child run).
    std::string idempotency_key;
    std::string actor;  // recorded in the child run's events
    // The child run's logical time and data interval (the parent run's, so a backfill of the
    // parent loads each interval's data); unset: the trigger time, as for a manual run.
    std::optional<core::sys_seconds> logical_time;
    std::optional<core::sys_seconds> data_interval_start;
    std::optional<core::sys_seconds> data_interval_end;
};

struct launched_run {
    core::run_id run;
    bool created = false;  // false: the key named an existing run
};

// How a child run ended.
enum class launched_run_end { success, failed, canceled, timed_out };

// Returns true when the caller must stop waiting (its attempt was stopped or timed out).
using stop_predicate = std::function<bool()>;

class job_launcher {
public:
    virtual ~job_launcher() = default;

    // Creates (or finds, by idempotency key) a manual run of `request.job`. Unknown or paused
    // jobs and invalid params are permanent errors carrying the engine's message; a scheduler
    // shutting down, a store failure or `stop` firing before the answer is transient (the run
    // may exist then: the retry finds it by its key).
    virtual core::result<launched_run> trigger(const launch_request& request,
                                               const stop_predicate& stop) = 0;

    // Blocks until the run finished and returns how; nullopt when `stop` said to give up first
    // (the run goes on). Polls `stop` every few milliseconds.
    virtual core::result<std::optional<launched_run_end>> wait(core::run_id run,
                                                               const stop_predicate& stop) = 0;

    // Cancels the run if it is still active; false when it already finished. Meant for a caller
    // that is itself stopping, so it waits at most a few seconds for the engine's answer.
    virtual core::result<bool> cancel(core::run_id run, const std::string& actor) = 0;

    // Reruns the failed part of a finished run (engine::async_retry_run); a permanent error
    // with the engine's message when there is nothing to rerun or the run is still active.
    virtual core::result<void> rerun_failed(core::run_id run, const std::string& actor,
                                            const stop_predicate& stop) = 0;
};

}  // namespace sluice::scheduler
