#pragma once

// How a task attempt ended, as far as the retry decision cares. Its own header so that the
// attempt bridge (which sees task_runner.hpp) need not include run_store.hpp.

namespace sluice::scheduler {

enum class attempt_end {
    success,
    failed_transient,
    failed_permanent,
    timed_out,    // the task's own timeout
    canceled,     // the run was canceled or timed out
    interrupted,  // the daemon died while the attempt ran (found by startup reconciliation)
    shutdown,     // stopped by a graceful shutdown after the grace period
};

}  // namespace sluice::scheduler
