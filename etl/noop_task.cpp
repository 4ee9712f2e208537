#include "etl/noop_task.hpp"

#include "etl/attempt_stop.hpp"

namespace sluice::etl {

scheduler::task_outcome noop_task::run(const scheduler::task_context& context) {
    if (auto stopped = stopped_outcome(context)) {
        return *stopped;
    }
    return scheduler::task_outcome::ok();
}

}  // namespace sluice::etl
