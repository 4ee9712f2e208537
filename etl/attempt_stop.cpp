#include "etl/attempt_stop.hpp"

#include <utility>

namespace sluice::etl {

stop_watch::stop_watch(const scheduler::task_context& context, std::function<void()> on_stop,
                       std::chrono::milliseconds poll,
                       std::optional<std::chrono::milliseconds> repeat)
    : context_(context),
      on_stop_(std::move(on_stop)),
      poll_(poll),
      repeat_(repeat),
      thread_([this] { watch(); }) {}

stop_watch::~stop_watch() {
    finish();
}

void stop_watch::finish() {
    {
        std::lock_guard lock(mutex_);
        done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::optional<stop_cause> stop_watch::cause() const {
    std::lock_guard lock(mutex_);
    return cause_;
}

void stop_watch::watch() {
    using steady = std::chrono::steady_clock;
    std::unique_lock lock(mutex_);
    std::optional<steady::time_point> last_stop;
    while (!done_) {
        if (!cause_) {
            cause_ = pending_stop(context_);
        }
        if (cause_ && (!last_stop || (repeat_ && steady::now() - *last_stop >= *repeat_))) {
            last_stop = steady::now();
            lock.unlock();
            on_stop_();
            lock.lock();
            continue;
        }
        if (cause_ && !repeat_) {
            return;  // stopped once; nothing more to do
        }
        wake_.wait_for(lock, poll_);
    }
}

std::optional<stop_cause> pending_stop(const scheduler::task_context& context) {
    using reason = scheduler::stop_signal::reason;
    switch (context.stop.why()) {
        case reason::none:
            break;
        case reason::canceled:
            return stop_cause::canceled;
        case reason::timed_out:
            return stop_cause::timed_out;
        case reason::shutdown:
            return stop_cause::shutdown;
    }
    if (context.deadline && context.clock.now() >= *context.deadline) {
        return stop_cause::timed_out;
    }
    return std::nullopt;
}

scheduler::task_outcome stop_outcome(stop_cause cause, const std::string& detail) {
    scheduler::task_outcome out;
    const std::string suffix = detail.empty() ? "" : "; " + detail;
    switch (cause) {
        case stop_cause::canceled:
            out.result = scheduler::task_outcome::status::canceled;
            out.error_class = core::error_class::permanent;
            out.message = "canceled" + suffix;
            break;
        case stop_cause::timed_out:
            out.result = scheduler::task_outcome::status::timed_out;
            out.error_class = core::error_class::transient;
            out.message = "timed out" + suffix;
            break;
        case stop_cause::shutdown:
            out.result = scheduler::task_outcome::status::canceled;
            out.error_class = core::error_class::transient;
            out.message = "interrupted by daemon shutdown" + suffix;
            break;
    }
    return out;
}

std::optional<scheduler::task_outcome> stopped_outcome(const scheduler::task_context& context) {
    if (const auto cause = pending_stop(context)) {
        return stop_outcome(*cause, "before it started");
    }
    return std::nullopt;
}

void log_system(const scheduler::task_context& context, std::string text) {
    if (context.on_log) {
        context.on_log(scheduler::output_line{
            context.clock.now(), scheduler::output_line::stream::system, std::move(text)});
    }
}

}  // namespace sluice::etl
