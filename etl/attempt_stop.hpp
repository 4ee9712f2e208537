#pragma once

#include <optional>
#include <string>

#include "scheduler/task_runner.hpp"

namespace sluice::etl {

// Why an attempt has to stop: the scheduler asked (cancel, timeout, shutdown) or the attempt's
// deadline passed on the context's clock.
enum class stop_cause { canceled, timed_out, shutdown };

// The cause when the attempt must stop now, nullopt while it may go on.
std::optional<stop_cause> pending_stop(const scheduler::task_context& context);

// The outcome of an attempt ended by `cause`; `detail` says what was done ("killed with
// SIGTERM"). Timeouts and shutdowns are transient (the scheduler decides whether to retry a
// timeout from `retry_on_timeout`); a cancel is permanent.
scheduler::task_outcome stop_outcome(stop_cause cause, const std::string& detail);

// stop_outcome(pending_stop(context)) when a stop is pending.
std::optional<scheduler::task_outcome> stopped_outcome(const scheduler::task_context& context);

// A system line in the task's log.
void log_system(const scheduler::task_context& context, std::string text);

}  // namespace sluice::etl
