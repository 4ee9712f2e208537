#include "tests/component/scheduler/trigger_job_runner.hpp"

#include "etl/trigger_job_task.hpp"

namespace sluice::test {

std::shared_ptr<scheduler::task_runner> make_trigger_job_runner() {
    return std::make_shared<etl::trigger_job_task>();
}

}  // namespace sluice::test
