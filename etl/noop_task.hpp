#pragma once

#include "scheduler/task_runner.hpp"

namespace sluice::etl {

// `type: noop`: does nothing and succeeds at once (a join point in a DAG, and what dispatch
// benchmarks run). An attempt already asked to stop ends canceled or timed out instead.
class noop_task final : public scheduler::task_runner {
public:
    scheduler::task_outcome run(const scheduler::task_context& context) override;
    bool uses_variables() const override { return false; }
    bool never_blocks() const override { return true; }
};

}  // namespace sluice::etl
