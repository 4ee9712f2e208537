#include "etl/copy_task.hpp"

#include <utility>

#include "etl/attempt_stop.hpp"
#include "etl/copy_attempt.hpp"

namespace sluice::etl {

scheduler::task_outcome copy_task::run(const scheduler::task_context& context) {
    using scheduler::task_outcome;
    const auto* spec = std::get_if<config::copy_spec>(&context.task.kind);
    if (spec == nullptr) {
        return task_outcome::failure(core::error_class::permanent,
                                     "task '" + context.task.name + "' is not a copy task");
    }
    if (auto stopped = stopped_outcome(context)) {
        return *stopped;
    }
    copy_attempt attempt(context, *spec, connectors_, options_);
    return attempt.run();
}

}  // namespace sluice::etl
