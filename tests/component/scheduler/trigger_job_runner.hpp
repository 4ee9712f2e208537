#pragma once

// The real trigger_job runner (etl/) for engine tests, made in its own translation unit like the
// fake runner (task_runner.hpp stays out of the tests that include run_store.hpp).

#include <memory>

namespace sluice::scheduler {
class task_runner;
}

namespace sluice::test {

std::shared_ptr<scheduler::task_runner> make_trigger_job_runner();

}  // namespace sluice::test
