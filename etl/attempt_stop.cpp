#include "etl/attempt_stop.hpp"

#include <utility>

namespace sluice::etl {

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
