#pragma once

#include <string>

#include "core/ids.hpp"
#include "scheduler/task_runner.hpp"

namespace sluice::etl {

// The idempotency key of the child run a task instance starts: one per (parent run, task), so
// every attempt of the instance (a retry, the retry after a daemon restart, `runs retry` of the
// parent) re-attaches to the same child run instead of starting another.
std::string trigger_job_key(core::run_id parent, const std::string& task);

// `type: trigger_job`: starts a manual run of another job with `params` (validated against the
// job's params by the engine; invalid ones fail the attempt permanently with its message) and,
// with `wait: true` (the default), follows it: the task succeeds when the child run succeeds
// and fails permanently when it fails, is canceled or times out. `wait: false` succeeds once the
// run exists.
//
// A later attempt of the same task instance re-attaches to the child run (trigger_job_key); if
// that run already finished without success, its failed and canceled tasks are rerun (like
// `sluice runs retry`) and followed again. A canceled or timed-out attempt cancels the child
// run; a daemon shutdown leaves it alone (the engine interrupts it, and the parent's retry after
// the restart re-attaches).
class trigger_job_task final : public scheduler::task_runner {
public:
    scheduler::task_outcome run(const scheduler::task_context& context) override;
    bool uses_variables() const override { return false; }
};

}  // namespace sluice::etl
