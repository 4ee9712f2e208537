// Operations the HTTP API asks of the engine beyond trigger/cancel/pause: rerunning a finished
// run's failed part, marking a task by hand, and the counters /metrics and /readyz read. Same
// write-ahead rule as the rest of the engine: every transition commits (fenced on the stored
// state and lease epoch) before the in-memory state acts on it.

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "scheduler/engine_impl.hpp"
#include "scheduler/planner.hpp"

namespace sluice::scheduler {

namespace {

using code = run_op_status::code_t;

run_op_status status(code c, std::string message) {
    return run_op_status{c, std::move(message), {}};
}

struct stored_run {
    std::optional<run_record> run;
    std::vector<task_instance_record> tasks;
};

// Maps stored task instances to graph nodes; nullopt when the job's tasks changed since.
std::optional<std::vector<std::size_t>> nodes_of(const run_graph& graph,
                                                 const std::vector<task_instance_record>& tasks) {
    if (tasks.size() != graph.nodes().size()) {
        return std::nullopt;
    }
    std::vector<std::size_t> nodes;
    for (const task_instance_record& ti : tasks) {
        auto n = graph.find(ti.task);
        if (!n) {
            return std::nullopt;
        }
        nodes.push_back(*n);
    }
    return nodes;
}

// The nodes to rerun: failed, upstream_failed and canceled tasks and everything downstream.
std::vector<bool> rerun_set(const run_graph& graph, const std::vector<task_state>& states) {
    const auto& nodes = graph.nodes();
    std::vector<bool> rerun(nodes.size(), false);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        rerun[i] = states[i] == task_state::failed || states[i] == task_state::upstream_failed ||
                   states[i] == task_state::canceled;
    }
    // Nodes are in file order, not topological order: iterate to a fixed point (n is small).
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (rerun[i]) {
                continue;
            }
            for (std::size_t up : nodes[i].upstream) {
                if (rerun[up]) {
                    rerun[i] = true;
                    changed = true;
                    break;
                }
            }
        }
    }
    return rerun;
}

}  // namespace

void engine::async_retry_run(core::run_id run, std::string actor,
                             std::function<void(core::result<run_op_status>)> done) {
    impl_->on_loop(
        [i = impl_.get(), run, actor = std::move(actor), done = std::move(done)]() mutable {
            i->retry_run(run, std::move(actor), std::move(done));
        });
}

void engine::async_mark_task(core::run_id run, std::string task, task_state to, std::string actor,
                             std::function<void(core::result<run_op_status>)> done) {
    impl_->on_loop([i = impl_.get(), run, task = std::move(task), to, actor = std::move(actor),
                    done = std::move(done)]() mutable {
        i->mark_task(run, std::move(task), to, std::move(actor), std::move(done));
    });
}

void engine::async_stats(std::function<void(engine_stats)> done) {
    impl_->on_loop([i = impl_.get(), done = std::move(done)] { done(i->stats()); });
}

engine_stats engine::impl::stats() const {
    engine_stats s;
    s.started = started_ && !stopped_;
    s.shutting_down = shutting_down_;
    s.running_tasks = attempts_running_;
    s.queued_tasks = static_cast<int>(queue_.queued());
    s.active_runs = static_cast<int>(runs_.size());
    return s;
}

void engine::impl::retry_run(core::run_id id, std::string actor,
                             std::function<void(core::result<run_op_status>)> done) {
    if (!started_ || shutting_down_) {
        done(status(code::conflict, "the scheduler is not running; retry after the restart"));
        return;
    }
    if (find_run(id) != nullptr) {
        done(status(code::conflict, "run " + id.to_string() +
                                        " is still active; wait for it to finish or cancel it"));
        return;
    }
    on_store(
        [self = shared_from_this(), id]() -> core::result<stored_run> {
            auto run = self->deps_.store.get_run(id);
            if (!run) {
                return run.error();
            }
            stored_run out{*run, {}};
            if (*run) {
                auto tasks = self->deps_.store.list_task_instances(id);
                if (!tasks) {
                    return tasks.error();
                }
                out.tasks = std::move(*tasks);
            }
            return out;
        },
        [self = shared_from_this(), id, actor = std::move(actor),
         done = std::move(done)](core::result<stored_run> loaded) mutable {
            if (!loaded) {
                done(loaded.error());
                return;
            }
            if (!loaded->run) {
                done(status(code::not_found, "no run with id " + id.to_string()));
                return;
            }
            const run_record& record = *loaded->run;
            if (self->find_run(id) != nullptr || !is_terminal(record.state)) {
                done(status(code::conflict, "run " + id.to_string() + " is still " +
                                                std::string(to_string(record.state)) +
                                                "; wait for it to finish or cancel it"));
                return;
            }
            auto job_it = self->jobs_.find(record.job);
            if (job_it == self->jobs_.end()) {
                done(status(code::conflict, "job " + record.job + " is no longer configured"));
                return;
            }
            job_entry& job = job_it->second;
            auto nodes = nodes_of(job.graph, loaded->tasks);
            if (!nodes) {
                done(status(code::conflict, "job " + record.job + "'s tasks changed since run " +
                                                id.to_string() + "; trigger a new run instead"));
                return;
            }
            std::vector<task_state> states(nodes->size());
            for (std::size_t i = 0; i < nodes->size(); ++i) {
                states[(*nodes)[i]] = loaded->tasks[i].state;
            }
            const std::vector<bool> rerun = rerun_set(job.graph, states);
            if (std::find(rerun.begin(), rerun.end(), true) == rerun.end()) {
                done(status(code::conflict, "run " + id.to_string() +
                                                " has no failed, upstream_failed or canceled "
                                                "task to retry"));
                return;
            }

            const core::time_point t = self->now();
            auto run = std::make_unique<live_run>();
            run->id = id;
            run->job = &job;
            run->definition = job.definition;
            run->trigger = record.trigger;
            auto params = params_from_json(record.params_json);
            run->params = params ? *params : param_values{};
            auto secs =
                [](const std::optional<core::time_point>& p) -> std::optional<core::sys_seconds> {
                if (!p) {
                    return std::nullopt;
                }
                return std::chrono::floor<std::chrono::seconds>(*p);
            };
            run->logical_time = secs(record.logical_time);
            run->data_interval_start = secs(record.data_interval_start);
            run->data_interval_end = secs(record.data_interval_end);
            run->state = run_state::queued;
            run->busy = true;
            run->tasks.resize(nodes->size());

            run_op_status result;
            std::vector<transition> batch{run_transition{id, record.state, run_state::queued, t}};
            for (std::size_t i = 0; i < nodes->size(); ++i) {
                const task_instance_record& ti = loaded->tasks[i];
                const std::size_t n = (*nodes)[i];
                live_task& lt = run->tasks[n];
                lt.node = n;
                lt.spec = &job.spec->tasks[n];
                lt.id = ti.id;
                lt.state = ti.state;
                lt.try_number = ti.try_number;
                lt.max_tries = ti.max_tries;
                lt.interruptions = ti.interruptions;
                lt.epoch = ti.lease_epoch;
                lt.outputs_bytes = stored_outputs_bytes(ti);
                if (!rerun[n]) {
                    continue;
                }
                if (ti.state == task_state::failed && ti.try_number > 0) {
                    // The failed try goes to the history before the rerun clears its error: at
                    // the front of the batch, ahead of every task update (a store may run
                    // same-shaped updates together, where the first of them stands).
                    batch.insert(batch.begin(), attempt_archive{ti.id, ti.try_number, ti.state,
                                                                ti.finished_at.value_or(t)});
                }
                task_transition tt =
                    task_move(ti.id, ti.state, ti.lease_epoch, task_state::pending, t);
                tt.error_message = "";  // the previous error no longer describes the task
                batch.push_back(tt);
                // The rerun gets a fresh set of tries on top of those already used (in memory:
                // after a restart the stored max_tries applies, so at least one try remains).
                lt.max_tries =
                    ti.try_number - ti.interruptions + std::max(1, lt.spec->retry.max_attempts);
                lt.state = task_state::pending;
                lt.busy = true;
                result.tasks.push_back(ti.task);
            }
            new_event e = self->make_event("run.retry", run.get(), nullptr, "{}", actor);
            nlohmann::json payload{{"from", std::string(to_string(record.state))},
                                   {"tasks", result.tasks}};
            e.payload_json = payload.dump();
            batch.push_back(e);
            batch.push_back(self->make_event(
                "run.state", run.get(), nullptr,
                state_payload(to_string(record.state), to_string(run_state::queued))));
            self->runs_.emplace(id, std::move(run));
            self->log_->info("job={} run={}: retry of {} task(s) requested by {}", record.job,
                             id.value, result.tasks.size(), actor);
            self->write(
                std::move(batch), [self, id, result, done = std::move(done)](
                                      bool ok, const std::vector<transition_outcome>& o) mutable {
                    live_run* run = self->find_run(id);
                    if (run == nullptr) {
                        done(core::error::transient("run " + id.to_string() +
                                                    " was dropped while its retry was recorded"));
                        return;
                    }
                    if (!ok || !all_applied(o)) {
                        // Something else changed the run (or the store failed): drop our picture;
                        // the stored state is authoritative.
                        self->runs_.erase(id);
                        done(ok ? core::result<run_op_status>(
                                      status(code::conflict, "run " + id.to_string() +
                                                                 " changed while the retry was "
                                                                 "recorded; read it and try again"))
                                : core::result<run_op_status>(core::error::transient(
                                      "could not record the retry of run " + id.to_string())));
                        return;
                    }
                    run->busy = false;
                    for (live_task& lt : run->tasks) {
                        lt.busy = false;
                    }
                    job_entry& job = *run->job;
                    job.waiting.push_back(id);
                    self->admit_runs(job);
                    done(result);
                });
        });
}

void engine::impl::mark_task(core::run_id id, std::string task_name, task_state to,
                             std::string actor,
                             std::function<void(core::result<run_op_status>)> done) {
    if (to != task_state::success && to != task_state::failed) {
        done(status(code::invalid, "a task can only be marked success or failed"));
        return;
    }
    if (live_run* run = find_run(id)) {
        for (live_task& lt : run->tasks) {
            if (lt.spec->name == task_name) {
                mark_live_task(*run, lt, to, actor, std::move(done));
                return;
            }
        }
        done(status(code::not_found, "run " + id.to_string() + " has no task " + task_name));
        return;
    }
    on_store(
        [self = shared_from_this(), id]() -> core::result<stored_run> {
            auto run = self->deps_.store.get_run(id);
            if (!run) {
                return run.error();
            }
            stored_run out{*run, {}};
            if (*run) {
                auto tasks = self->deps_.store.list_task_instances(id);
                if (!tasks) {
                    return tasks.error();
                }
                out.tasks = std::move(*tasks);
            }
            return out;
        },
        [self = shared_from_this(), id, task_name, to, actor = std::move(actor),
         done = std::move(done)](core::result<stored_run> loaded) mutable {
            if (!loaded) {
                done(loaded.error());
                return;
            }
            if (!loaded->run) {
                done(status(code::not_found, "no run with id " + id.to_string()));
                return;
            }
            if (live_run* run = self->find_run(id)) {
                // Became active (a retry) while we read: decide on the live state.
                self->mark_task(id, task_name, to, actor, std::move(done));
                (void)run;
                return;
            }
            const run_record& record = *loaded->run;
            if (!is_terminal(record.state)) {
                done(status(code::conflict, "run " + id.to_string() +
                                                " is active on another instance (or stalled); "
                                                "mark its tasks there"));
                return;
            }
            auto it =
                std::find_if(loaded->tasks.begin(), loaded->tasks.end(),
                             [&](const task_instance_record& ti) { return ti.task == task_name; });
            if (it == loaded->tasks.end()) {
                done(
                    status(code::not_found, "run " + id.to_string() + " has no task " + task_name));
                return;
            }
            const core::time_point t = self->now();
            std::vector<transition> batch;
            std::vector<task_state> states;
            for (const task_instance_record& ti : loaded->tasks) {
                states.push_back(&ti == &*it ? to : ti.state);
            }
            if (it->state != to) {
                task_transition tt = task_move(it->id, it->state, it->lease_epoch, to, t);
                tt.error_message = to == task_state::failed ? "marked failed by " + actor : "";
                batch.push_back(tt);
            }
            const run_state final_state = final_run_state(states);
            if (final_state != record.state && record.state != run_state::canceled &&
                record.state != run_state::timed_out) {
                batch.push_back(run_transition{id, record.state, final_state, t});
            }
            new_event mark;
            mark.at = t;
            mark.kind = "task.mark";
            mark.job = record.job;
            mark.run = id;
            mark.task = task_name;
            mark.actor = actor;
            mark.payload_json = state_payload(to_string(it->state), to_string(to));
            batch.push_back(mark);
            new_event st = mark;
            st.kind = "task.state";
            batch.push_back(st);
            self->write(std::move(batch), [id, done = std::move(done)](
                                              bool ok,
                                              const std::vector<transition_outcome>& o) mutable {
                if (!ok) {
                    done(core::error::transient("could not record the mark on run " +
                                                id.to_string()));
                } else if (!all_applied(o)) {
                    done(status(code::conflict, "run " + id.to_string() +
                                                    " changed meanwhile; read it and try again"));
                } else {
                    done(run_op_status{});
                }
            });
        });
}

void engine::impl::mark_live_task(live_run& run, live_task& task, task_state to,
                                  const std::string& actor,
                                  std::function<void(core::result<run_op_status>)> done) {
    if (task.running || task.busy || run.busy || run.ending != run_ending::none) {
        done(status(code::conflict, "task " + task.spec->name + " of run " + run.id.to_string() +
                                        " is running or changing state; cancel the run or wait"));
        return;
    }
    if (task.state == to) {
        done(run_op_status{});
        return;
    }
    if (is_terminal(task.state) && task.state != task_state::failed &&
        task.state != task_state::success) {
        done(status(code::conflict, "task " + task.spec->name + " is " +
                                        std::string(to_string(task.state)) +
                                        "; retry the run once it finished instead"));
        return;
    }
    queue_.remove(task.id);
    if (task.timer) {
        task.timer->cancel();
    }
    const core::time_point t = now();
    task_transition tt = task_move(task.id, task.state, task.epoch, to, t);
    tt.error_message = to == task_state::failed ? "marked failed by " + actor : "";
    new_event mark = make_event("task.mark", &run, &task,
                                state_payload(to_string(task.state), to_string(to)), actor);
    new_event st = make_event("task.state", &run, &task,
                              state_payload(to_string(task.state), to_string(to)), actor);
    task.state = to;
    task.busy = true;
    write({tt, mark, st}, [self = shared_from_this(), id = run.id, node = task.node,
                           done = std::move(done)](
                              bool ok, const std::vector<transition_outcome>& o) mutable {
        live_run* run = self->find_run(id);
        if (run == nullptr) {
            done(run_op_status{});
            return;
        }
        run->tasks[node].busy = false;
        if (!ok || !all_applied(o)) {
            self->stall(*run, "could not record a task marked by hand");
            done(core::error::transient("could not record the mark on run " + id.to_string()));
            return;
        }
        self->plan(*run);
        self->dispatch();
        done(run_op_status{});
    });
}

}  // namespace sluice::scheduler
