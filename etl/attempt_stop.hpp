#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

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

// Watches an attempt on a thread of its own while the runner blocks in a call (an HTTP read, a
// SQL statement): once a stop is pending (pending_stop, checked every `poll`), calls `on_stop`
// (which makes the blocked call return: abort the connection, cancel the statement), then again
// every `repeat` if given, until finish(). `on_stop` runs outside the watch's lock, so it may
// block (a MySQL cancel opens a connection) without holding up finish().
class stop_watch {
public:
    stop_watch(const scheduler::task_context& context, std::function<void()> on_stop,
               std::chrono::milliseconds poll,
               std::optional<std::chrono::milliseconds> repeat = std::nullopt);
    ~stop_watch();
    stop_watch(const stop_watch&) = delete;
    stop_watch& operator=(const stop_watch&) = delete;

    // Stops watching; afterwards cause() is stable.
    void finish();
    // Why the attempt was stopped, once a stop was seen.
    std::optional<stop_cause> cause() const;

private:
    void watch();

    const scheduler::task_context& context_;
    std::function<void()> on_stop_;
    std::chrono::milliseconds poll_;
    std::optional<std::chrono::milliseconds> repeat_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::optional<stop_cause> cause_;
    std::thread thread_;  // last: started once everything above is initialized
};

// A system line in the task's log.
void log_system(const scheduler::task_context& context, std::string text);

}  // namespace sluice::etl
