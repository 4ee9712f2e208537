#pragma once

#include <chrono>
#include <optional>

#include "core/duration.hpp"
#include "scheduler/task_runner.hpp"

namespace sluice::etl {

struct shell_task_options {
    // Overrides every task's `kill_grace` (SIGTERM -> SIGKILL) when set; tests shorten it.
    std::optional<core::duration> kill_grace;
    // How long output is still read after the main process exited and its leftover group was
    // killed; a process that left the group (setsid) and kept the pipe open is not waited for.
    std::chrono::milliseconds drain_bound{1000};
    // How often a running child is checked against the stop signal and the deadline.
    std::chrono::milliseconds poll_interval{50};
};

// `type: shell`: runs `command` with /bin/sh -c, or `argv` directly, in `cwd` with the daemon's
// environment plus `env` plus the SLUICE_* values (etl/task_values.hpp). stdout and stderr are
// read concurrently, line by line, into the task's log; `::sluice metric NAME=VALUE` lines also
// record a metric. Exit code 0 succeeds; another code fails, transient when it is in
// `retry_on_exit_codes` (every non-zero code when that list is empty), else permanent; death by a
// signal is a transient failure. On stop or deadline the process group gets SIGTERM, then SIGKILL
// after the grace period. When the main process exits, what it left running in its group is
// killed, so a retried attempt never overlaps leftovers of its predecessor.
class shell_task final : public scheduler::task_runner {
public:
    explicit shell_task(shell_task_options options = {}) : options_(options) {}

    scheduler::task_outcome run(const scheduler::task_context& context) override;

private:
    shell_task_options options_;
};

}  // namespace sluice::etl
