#pragma once

// The run planner (docs/architecture.md#states): which pending task instances become queued,
// skipped or upstream_failed given the states of their upstream tasks, and the final state of a
// run once every task instance has finished. Pure: no I/O, no clock.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"
#include "core/error.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::scheduler {

// One task of a job's DAG: the indices of its upstream tasks and its trigger rule.
struct graph_node {
    std::string name;
    std::vector<std::size_t> upstream;
    config::trigger_rule rule = config::trigger_rule::all_success;
};

// The DAG of one job; node i is the job's i-th task (file order).
class run_graph {
public:
    // Fails (permanent) on an unknown `depends_on` name or a cycle.
    static core::result<run_graph> from_job(const config::job_spec& job);

    const std::vector<graph_node>& nodes() const { return nodes_; }
    std::optional<std::size_t> find(std::string_view task) const;

private:
    std::vector<graph_node> nodes_;
};

// How the upstream tasks of one task stand. `failed` counts failed and canceled upstreams.
struct upstream_summary {
    int total = 0;
    int done = 0;  // in a terminal state
    int success = 0;
    int failed = 0;
    int upstream_failed = 0;
    int skipped = 0;
};

upstream_summary summarize_upstream(const graph_node& node, std::span<const task_state> states);

// What a pending task's trigger rule decides now: queued (ready to run), skipped,
// upstream_failed, or nullopt (wait for more upstream tasks to finish).
//   all_success  all upstream done; all success -> queued; any failed/upstream_failed/canceled
//                -> upstream_failed; otherwise (some skipped) -> skipped.
//   all_done     all upstream done -> queued.
//   one_failed   queued as soon as one upstream failed/upstream_failed; all done without one
//                -> skipped.
//   one_success  queued as soon as one upstream succeeded; all done without one -> skipped when
//                every upstream was skipped, else upstream_failed.
//   none_failed  all upstream done; any failed/upstream_failed -> upstream_failed; else queued.
//   always       queued at once, whatever the upstream tasks do (Airflow's `always`).
// A task without upstream tasks is queued at once under every rule.
std::optional<task_state> evaluate_rule(config::trigger_rule rule, const upstream_summary& up);

struct planned_transition {
    std::size_t node = 0;
    task_state to = task_state::queued;
};

// The decisions for every pending task, propagated to a fixpoint (a skipped task can skip its
// downstream in the same pass), in node order of decision.
std::vector<planned_transition> plan_pending(const run_graph& graph,
                                             std::span<const task_state> states);

// True when every task instance is terminal.
bool all_terminal(std::span<const task_state> states);

// The state of a finished run that was neither canceled nor timed out: success iff no task
// instance is failed, upstream_failed or canceled (skipped tasks do not fail a run: a branch the
// DAG chose not to take); failed otherwise. A run whose failure was handled by a one_failed task
// is still failed.
run_state final_run_state(std::span<const task_state> states);

}  // namespace sluice::scheduler
