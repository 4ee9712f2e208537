#include "scheduler/planner.hpp"

#include <functional>

namespace sluice::scheduler {

core::result<run_graph> run_graph::from_job(const config::job_spec& job) {
    run_graph graph;
    graph.nodes_.reserve(job.tasks.size());
    for (const config::task_spec& task : job.tasks) {
        graph.nodes_.push_back(graph_node{task.name, {}, task.rule});
    }
    for (std::size_t i = 0; i < job.tasks.size(); ++i) {
        for (const std::string& dep : job.tasks[i].depends_on) {
            std::optional<std::size_t> up = graph.find(dep);
            if (!up) {
                return core::error::permanent("job " + job.name + ": task " + job.tasks[i].name +
                                              " depends on unknown task " + dep);
            }
            graph.nodes_[i].upstream.push_back(*up);
        }
    }
    // Depth-first search for a cycle: 0 = unvisited, 1 = on the stack, 2 = done.
    std::vector<int> mark(graph.nodes_.size(), 0);
    std::function<bool(std::size_t)> cyclic = [&](std::size_t n) {
        if (mark[n] == 1) {
            return true;
        }
        if (mark[n] == 2) {
            return false;
        }
        mark[n] = 1;
        for (std::size_t up : graph.nodes_[n].upstream) {
            if (cyclic(up)) {
                return true;
            }
        }
        mark[n] = 2;
        return false;
    };
    for (std::size_t i = 0; i < graph.nodes_.size(); ++i) {
        if (cyclic(i)) {
            return core::error::permanent("job " + job.name +
                                          ": the tasks' depends_on form a cycle");
        }
    }
    return graph;
}

std::optional<std::size_t> run_graph::find(std::string_view task) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].name == task) {
            return i;
        }
    }
    return std::nullopt;
}

upstream_summary summarize_upstream(const graph_node& node, std::span<const task_state> states) {
    upstream_summary s;
    for (std::size_t up : node.upstream) {
        task_state st = states[up];
        ++s.total;
        if (is_terminal(st)) {
            ++s.done;
        }
        switch (st) {
            case task_state::success:
                ++s.success;
                break;
            case task_state::failed:
            case task_state::canceled:
                ++s.failed;
                break;
            case task_state::upstream_failed:
                ++s.upstream_failed;
                break;
            case task_state::skipped:
                ++s.skipped;
                break;
            default:
                break;
        }
    }
    return s;
}

std::optional<task_state> evaluate_rule(config::trigger_rule rule, const upstream_summary& up) {
    using config::trigger_rule;
    if (up.total == 0 || rule == trigger_rule::always) {
        return task_state::queued;
    }
    const bool all_done = up.done == up.total;
    const bool any_failed = up.failed + up.upstream_failed > 0;
    switch (rule) {
        case trigger_rule::all_success:
            if (!all_done) {
                return std::nullopt;
            }
            if (up.success == up.total) {
                return task_state::queued;
            }
            return any_failed ? task_state::upstream_failed : task_state::skipped;
        case trigger_rule::all_done:
            return all_done ? std::optional(task_state::queued) : std::nullopt;
        case trigger_rule::one_failed:
            if (any_failed) {
                return task_state::queued;
            }
            return all_done ? std::optional(task_state::skipped) : std::nullopt;
        case trigger_rule::one_success:
            if (up.success > 0) {
                return task_state::queued;
            }
            if (!all_done) {
                return std::nullopt;
            }
            return up.skipped == up.total ? task_state::skipped : task_state::upstream_failed;
        case trigger_rule::none_failed:
            if (!all_done) {
                return std::nullopt;
            }
            return any_failed ? task_state::upstream_failed : task_state::queued;
        case trigger_rule::always:
            break;
    }
    return task_state::queued;
}

std::vector<planned_transition> plan_pending(const run_graph& graph,
                                             std::span<const task_state> states) {
    std::vector<task_state> now(states.begin(), states.end());
    std::vector<planned_transition> out;
    bool changed = true;
    while (changed) {
        changed = false;
        for (std::size_t i = 0; i < graph.nodes().size(); ++i) {
            if (now[i] != task_state::pending) {
                continue;
            }
            const graph_node& node = graph.nodes()[i];
            std::optional<task_state> to = evaluate_rule(node.rule, summarize_upstream(node, now));
            if (!to) {
                continue;
            }
            now[i] = *to;
            out.push_back({i, *to});
            // A queued task is not terminal, so it cannot unblock anything in this pass; a
            // skipped or upstream_failed one can.
            changed = changed || is_terminal(*to);
        }
    }
    return out;
}

bool all_terminal(std::span<const task_state> states) {
    for (task_state s : states) {
        if (!is_terminal(s)) {
            return false;
        }
    }
    return true;
}

run_state final_run_state(std::span<const task_state> states) {
    for (task_state s : states) {
        if (s == task_state::failed || s == task_state::upstream_failed ||
            s == task_state::canceled) {
            return run_state::failed;
        }
    }
    return run_state::success;
}

}  // namespace sluice::scheduler
