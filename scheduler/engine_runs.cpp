// The run side of the engine: starting runs under max_active_runs, planning, dispatching
// attempts under a lease, recording outcomes and retries, cancel and job timeouts, finishing.
// Every transition is written before anything acts on it (write-ahead); the in-memory state is
// the newest state submitted, and `busy` keeps a task out of every other decision until its
// write committed.

#include <algorithm>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/duration.hpp"
#include "core/logging.hpp"
#include "core/time.hpp"
#include "scheduler/engine_impl.hpp"
#include "scheduler/retry_decision.hpp"

namespace sluice::scheduler {

void engine::impl::admit_runs(job_entry& job) {
    while (!shutting_down_ && !job.waiting.empty() &&
           static_cast<int>(job.active.size()) < std::max(1, job.spec->max_active_runs)) {
        core::run_id id = job.waiting.front();
        job.waiting.pop_front();
        live_run* run = find_run(id);
        if (run == nullptr) {
            continue;
        }
        job.active.insert(id);
        start_run(*run);
    }
}

std::string run_started_payload(trigger_kind trigger,
                                const std::optional<core::time_point>& logical_time,
                                core::time_point started_at) {
    std::string payload = state_payload("queued", "running");
    if (trigger == trigger_kind::scheduled && logical_time && payload.ends_with('}')) {
        payload.pop_back();
        payload +=
            ",\"lateness_seconds\":" +
            std::to_string(std::chrono::duration<double>(started_at - *logical_time).count()) + "}";
    }
    return payload;
}

void engine::impl::start_run(live_run& run) {
    const core::time_point t = now();
    std::optional<core::time_point> logical;
    if (run.logical_time) {
        logical = *run.logical_time;
    }
    std::vector<transition> batch{
        run_transition{run.id, run_state::queued, run_state::running, t},
        make_event("run.state", &run, nullptr, run_started_payload(run.trigger, logical, t))};
    // The run's first ready tasks, and those of them a worker can take now, commit with it:
    // a single-task run starts its attempt after one commit, not three.
    run.state = run_state::running;
    std::vector<std::size_t> planned = append_plan(run, batch);
    auto started = append_eager_starts(run, planned, batch);
    run.busy = true;
    write(std::move(batch), [self = shared_from_this(), id = run.id, t, planned, started](
                                bool ok, const std::vector<transition_outcome>& o) {
        live_run* run = self->find_run(id);
        if (run == nullptr) {
            return;
        }
        run->busy = false;
        if (!ok || !all_applied(o)) {
            self->on_planned_written(*run, planned, started, false);
            self->stall(*run, "could not record the run as running");
            return;
        }
        run->started_at = t;
        self->log_->debug("job={} run={}: running", run->definition->spec->name, id.value);
        self->on_planned_written(*run, planned, started, true);
        self->arm_run_timeout(*run);
        self->plan(*run);
    });
}

void engine::impl::arm_run_timeout(live_run& run) {
    const auto& timeout = run.definition->spec->timeout;
    if (!timeout) {
        return;
    }
    run.deadline = std::make_unique<boost::asio::steady_timer>(loop_);
    run.deadline->expires_after(*timeout);
    run.deadline->async_wait(
        [self = shared_from_this(), id = run.id](boost::system::error_code ec) {
            live_run* run = self->find_run(id);
            if (!ec && run != nullptr) {
                self->end_run(*run, run_ending::timeout, "scheduler");
            }
        });
}

std::vector<std::size_t> engine::impl::append_plan(live_run& run, std::vector<transition>& batch) {
    std::vector<std::size_t> nodes;
    if (run.ending != run_ending::none || run.state != run_state::running || run.busy) {
        return nodes;
    }
    std::vector<task_state> states;
    for (const live_task& t : run.tasks) {
        states.push_back(t.state);
    }
    const core::time_point t = now();
    for (const planned_transition& d : plan_pending(run.definition->graph, states)) {
        live_task& task = run.tasks[d.node];
        batch.push_back(task_move(task.id, task_state::pending, task.epoch, d.to, t));
        batch.push_back(
            make_event("task.state", &run, &task, state_payload("pending", to_string(d.to))));
        task.state = d.to;
        task.busy = true;
        nodes.push_back(d.node);
    }
    return nodes;
}

std::vector<std::pair<std::size_t, int>> engine::impl::append_eager_starts(
    live_run& run, std::vector<std::size_t>& planned, std::vector<transition>& batch) {
    std::vector<std::pair<std::size_t, int>> started;
    if (shutting_down_ || stopped_ || run.ending != run_ending::none) {
        return started;
    }
    std::erase_if(planned, [&](std::size_t n) {
        live_task& task = run.tasks[n];
        if (task.state != task_state::queued) {
            return false;
        }
        dispatch_item item{task.id,
                           run.id,
                           run.definition->spec->name,
                           task.spec->pool,
                           run.definition->spec->max_active_tasks,
                           run.trigger == trigger_kind::backfill};
        if (!queue_.admit_now(item)) {
            return false;
        }
        started.emplace_back(n, append_start(run, task, batch));
        return true;
    });
    return started;
}

void engine::impl::on_planned_written(live_run& run, const std::vector<std::size_t>& planned,
                                      const std::vector<std::pair<std::size_t, int>>& started,
                                      bool ok) {
    if (!ok) {
        // Undo the bookkeeping only: the caller stalls the run, which ends its in-memory life.
        for (std::size_t n : planned) {
            run.tasks[n].busy = false;
        }
        for (const auto& [node, try_number] : started) {
            live_task& task = run.tasks[node];
            --attempts_running_;
            task.running = false;
            task.busy = false;
            queue_.release(task.id);
        }
        return;
    }
    release_planned(run, planned);
    for (const auto& [node, try_number] : started) {
        on_start_written(run.id, node, try_number, true);
    }
    if (!planned.empty()) {
        dispatch();  // what could not start at once waits in the queue for a free slot
    }
}

void engine::impl::release_planned(live_run& run, const std::vector<std::size_t>& nodes) {
    for (std::size_t n : nodes) {
        live_task& task = run.tasks[n];
        task.busy = false;
        if (task.state == task_state::queued && run.ending == run_ending::none) {
            queue_.push(dispatch_item{task.id, run.id, run.definition->spec->name, task.spec->pool,
                                      run.definition->spec->max_active_tasks,
                                      run.trigger == trigger_kind::backfill});
        }
    }
}

void engine::impl::plan(live_run& run) {
    if (run.ending != run_ending::none) {
        settle(run);
        return;
    }
    if (run.state != run_state::running || run.busy) {
        return;
    }
    std::vector<transition> batch;
    std::vector<std::size_t> nodes = append_plan(run, batch);
    if (nodes.empty()) {
        check_finished(run);
        return;
    }
    auto started = append_eager_starts(run, nodes, batch);
    write(std::move(batch), [self = shared_from_this(), id = run.id, nodes, started](
                                bool ok, const std::vector<transition_outcome>& o) {
        live_run* run = self->find_run(id);
        if (run == nullptr) {
            return;
        }
        const bool written = ok && all_applied(o);
        self->on_planned_written(*run, nodes, started, written);
        if (!written) {
            self->stall(*run, "could not record planned task states");
            return;
        }
        self->plan(*run);
        self->dispatch();
    });
}

void engine::impl::dispatch() {
    if (shutting_down_ || stopped_) {
        return;
    }
    for (const dispatch_item& item : queue_.admit()) {
        live_run* run = find_run(item.run);
        live_task* task = nullptr;
        if (run != nullptr) {
            for (live_task& t : run->tasks) {
                if (t.id == item.task) {
                    task = &t;
                }
            }
        }
        if (task == nullptr || task->state != task_state::queued || task->busy) {
            queue_.release(item.task);
            continue;
        }
        start_attempt(*run, *task);
    }
}

void engine::impl::end_run(live_run& run, run_ending why, const std::string& actor) {
    if (run.ending != run_ending::none) {
        return;
    }
    run.ending = why;
    if (run.deadline) {
        run.deadline->cancel();
    }
    const bool timeout = why == run_ending::timeout;
    log_->warn("job={} run={}: {}", run.definition->spec->name, run.id.value,
               timeout ? "timed out; stopping its attempts" : "canceled by " + actor);
    std::erase(run.job->waiting, run.id);
    for (live_task& task : run.tasks) {
        if (task.stop) {
            task.stop->request(timeout ? attempt_stop_reason::timed_out
                                       : attempt_stop_reason::canceled);
        }
    }
    write({make_event(timeout ? "run.timeout" : "run.cancel", &run, nullptr, "{}", actor)},
          [](bool, const std::vector<transition_outcome>&) {});
    settle(run);
}

void engine::impl::settle(live_run& run) {
    // Everything of an ending run that is neither finished nor running becomes canceled.
    const core::time_point t = now();
    std::vector<transition> batch;
    std::vector<std::size_t> nodes;
    for (live_task& task : run.tasks) {
        if (is_terminal(task.state) || task.busy || task.running) {
            continue;
        }
        queue_.remove(task.id);
        if (task.timer) {
            task.timer->cancel();
        }
        task_transition tt = task_move(task.id, task.state, task.epoch, task_state::canceled, t);
        tt.error_message =
            run.ending == run_ending::timeout ? "the run timed out" : "the run was canceled";
        batch.push_back(tt);
        batch.push_back(make_event("task.state", &run, &task,
                                   state_payload(to_string(task.state), "canceled")));
        task.state = task_state::canceled;
        task.busy = true;
        nodes.push_back(task.node);
    }
    if (batch.empty()) {
        check_finished(run);
        return;
    }
    write(std::move(batch), [self = shared_from_this(), id = run.id, nodes](
                                bool ok, const std::vector<transition_outcome>& o) {
        live_run* run = self->find_run(id);
        if (run == nullptr) {
            return;
        }
        for (std::size_t n : nodes) {
            run->tasks[n].busy = false;
        }
        if (!ok || !all_applied(o)) {
            self->stall(*run, "could not cancel the run's tasks");
            return;
        }
        self->check_finished(*run);
    });
}

std::optional<run_state> engine::impl::final_state_if_done(
    const live_run& run, std::optional<std::size_t> except) const {
    if (run.busy) {
        return std::nullopt;
    }
    std::vector<task_state> states;
    for (const live_task& t : run.tasks) {
        if (t.node != except && (t.busy || t.running)) {
            return std::nullopt;
        }
        states.push_back(t.state);
    }
    if (!all_terminal(states)) {
        return std::nullopt;
    }
    return run.ending == run_ending::cancel    ? run_state::canceled
           : run.ending == run_ending::timeout ? run_state::timed_out
                                               : final_run_state(states);
}

void engine::impl::append_finish(live_run& run, run_state final_state,
                                 std::vector<transition>& batch) {
    batch.push_back(run_transition{run.id, run.state, final_state, now()});
    batch.push_back(make_event("run.state", &run, nullptr,
                               state_payload(to_string(run.state), to_string(final_state))));
    run.busy = true;
}

void engine::impl::check_finished(live_run& run) {
    const auto final_state = final_state_if_done(run, std::nullopt);
    if (!final_state) {
        return;
    }
    std::vector<transition> batch;
    append_finish(run, *final_state, batch);
    write(std::move(batch), [self = shared_from_this(), id = run.id, state = *final_state](
                                bool ok, const std::vector<transition_outcome>& o) {
        self->on_finish_written(id, state, ok && all_applied(o));
    });
}

void engine::impl::on_finish_written(core::run_id id, run_state final_state, bool ok) {
    live_run* run = find_run(id);
    if (run == nullptr) {
        return;
    }
    run->busy = false;
    if (!ok) {
        stall(*run, "could not record the run's end");
        return;
    }
    job_entry& job = *run->job;
    log_->log(final_state == run_state::success ? spdlog::level::info : spdlog::level::warn,
              "job={} run={}: {}", job.spec->name, id.value, to_string(final_state));
    if (run->deadline) {
        run->deadline->cancel();
    }
    // A run that ends was active, unless it was canceled while still waiting for admission;
    // only then is the (possibly long) waiting list searched.
    if (job.active.erase(id) == 0) {
        std::erase(job.waiting, id);
    }
    on_backfill_run_ended(*run);
    runs_.erase(id);
    auto waiters = waiters_.extract(id);
    if (!waiters.empty()) {
        for (auto& w : waiters.mapped()) {
            wait_run(id, std::move(w));
        }
    }
    admit_runs(job);
}

void engine::impl::cancel(core::run_id id, std::string actor,
                          std::function<void(core::result<bool>)> done) {
    live_run* run = find_run(id);
    if (run == nullptr || run->ending != run_ending::none) {
        done(run != nullptr);
        return;
    }
    end_run(*run, run_ending::cancel, actor);
    done(true);
}

void engine::impl::wait_run(core::run_id id, std::function<void(core::result<run_record>)> done) {
    if (find_run(id) != nullptr) {
        waiters_[id].push_back(std::move(done));
        return;
    }
    on_store([self = shared_from_this(), id] { return self->deps_.store.get_run(id); },
             [self = shared_from_this(), id,
              done = std::move(done)](core::result<std::optional<run_record>> r) mutable {
                 if (!r) {
                     done(r.error());
                 } else if (!*r) {
                     done(core::error::permanent("no run with id " + id.to_string()));
                 } else if (!is_terminal((*r)->state) && self->find_run(id) != nullptr) {
                     self->waiters_[id].push_back(std::move(done));
                 } else {
                     done(**r);
                 }
             });
}

}  // namespace sluice::scheduler
