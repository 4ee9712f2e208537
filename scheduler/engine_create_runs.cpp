// Run creation: manual triggers, ticks, catch-up and trigger_job children become runs through
// the group commit (engine_dependencies::submit_runs), each run with its task instances and its
// events in one commit. Creations made while a creation_batch is open (the ticks due at one
// instant, catch-up at startup) go as one submission. A run its job has room for is created
// already started: running, its first tasks queued and, as far as workers are free, running
// under our lease, so that it costs one commit less than created, started, then run. Design:
// docs/architecture.md#group-commit.

#include <spdlog/spdlog.h>

#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

void engine::impl::create_run(job_entry& job, new_run nr, param_values params,
                              std::function<void(core::result<create_run_result>)> done) {
    for (const config::task_spec& task : job.spec->tasks) {
        nr.tasks.push_back(new_task_instance{task.name, std::max(1, task.retry.max_attempts)});
    }
    pending_creation& p = held_creations_.emplace_back(
        pending_creation{&job, job.definition, std::move(nr), std::move(params), std::move(done)});
    plan_started_creation(p);
    if (holding_creations_ == 0) {
        flush_creations();
    }
}

void engine::impl::plan_started_creation(pending_creation& p) {
    job_entry& job = *p.job;
    if (shutting_down_ || stopped_ || p.run.backfill || !job.waiting.empty() ||
        static_cast<int>(job.active.size()) + job.starting >=
            std::max(1, job.spec->max_active_runs)) {
        return;
    }
    const run_graph& graph = p.definition->graph;
    const std::vector<planned_transition> ready =
        plan_pending(graph, std::vector<task_state>(graph.nodes().size()));
    if (ready.empty() || std::any_of(ready.begin(), ready.end(), [](const planned_transition& d) {
            return d.to != task_state::queued;
        })) {
        return;  // a first task that is skipped or fails at once: the ordinary start decides
    }
    creation_start start;
    start.at = now();
    auto event = [&](std::string kind, const std::string* task, std::string payload) {
        new_event& e = start.events.emplace_back();
        e.at = start.at;
        e.kind = std::move(kind);
        e.job = p.run.job;
        if (task != nullptr) {
            e.task = *task;
        }
        e.payload_json = std::move(payload);
        e.actor = "scheduler";
    };
    event("run.state", nullptr, run_started_payload(p.run.trigger, p.run.logical_time, start.at));
    for (const planned_transition& d : ready) {
        new_task_instance& task = p.run.tasks.at(d.node);
        task.state = task_state::queued;
        event("task.state", &task.task, state_payload("pending", "queued"));
    }
    for (const planned_transition& d : ready) {
        new_task_instance& task = p.run.tasks[d.node];
        const config::task_spec& spec = p.definition->spec->tasks.at(d.node);
        const core::task_instance_id placeholder{--next_placeholder_};
        if (!queue_.admit_now(dispatch_item{placeholder, core::run_id{}, job.spec->name, spec.pool,
                                            p.definition->spec->max_active_tasks, false})) {
            start.queued.push_back(d.node);
            continue;
        }
        task.state = task_state::running;
        task.lease_owner = options_.instance_id;
        task.lease_expires_at = start.at + options_.lease_duration;
        ++attempts_running_;
        start.running.emplace_back(d.node, placeholder);
        event("task.state", &task.task, state_payload("queued", "running", 1));
    }
    p.run.started_at = start.at;
    ++job.starting;
    p.start = std::move(start);
}

void engine::impl::release_started_creation(pending_creation& p) {
    if (!p.start) {
        return;
    }
    --p.job->starting;
    for (const auto& [node, placeholder] : p.start->running) {
        queue_.release(placeholder);
        --attempts_running_;
    }
    p.start.reset();
    if (!stopped_) {
        admit_runs(*p.job);  // the room it held may let a waiting run start
        dispatch();
    }
}

void engine::impl::begin_started_run(live_run& run, const creation_start& start) {
    job_entry& job = *run.job;
    --job.starting;
    job.active.insert(run.id);
    run.state = run_state::running;
    run.started_at = start.at;
    log_->debug("job={} run={}: running", run.definition->spec->name, run.id.value);
    arm_run_timeout(run);
    release_planned(run, start.queued);
    for (const auto& [node, placeholder] : start.running) {
        live_task& task = run.tasks[node];
        queue_.rekey(placeholder, task.id, run.id);
        task.busy = true;
        task.running = true;
        task.try_number = 1;
        if (shutting_down_ && !grace_elapsed_ && run.ending == run_ending::none) {
            // Started before the shutdown began (a tick that fired as SIGTERM arrived): it runs
            // in the grace like the attempts already running, rather than be interrupted
            // before it began (docs/operations.md, "Group commit").
            execute_attempt(run, task);
            continue;
        }
        begin_attempt(run, task);
    }
    if (!start.queued.empty()) {
        dispatch();
    }
}

void engine::impl::flush_creations() {
    // A large batch (catch-up of thousands of jobs) goes in parts, so that the first runs
    // start while the rest commit.
    constexpr std::size_t max_submission = 256;
    std::vector<pending_creation> held = std::move(held_creations_);
    held_creations_.clear();
    for (std::size_t first = 0; first < held.size(); first += max_submission) {
        const std::size_t last = std::min(held.size(), first + max_submission);
        submit_creations(std::vector<pending_creation>(
            std::make_move_iterator(held.begin() + static_cast<std::ptrdiff_t>(first)),
            std::make_move_iterator(held.begin() + static_cast<std::ptrdiff_t>(last))));
    }
}

void engine::impl::submit_creations(std::vector<pending_creation> held) {
    auto batch = std::make_shared<std::vector<pending_creation>>(std::move(held));
    std::vector<run_creation> creations;
    creations.reserve(batch->size());
    auto events = std::make_shared<std::vector<std::vector<new_event>>>();
    for (const pending_creation& p : *batch) {
        run_creation& c = creations.emplace_back();
        c.run = p.run;
        new_event& e = c.events.emplace_back();
        e.at = p.start ? p.start->at : now();
        e.kind = "run.state";
        e.job = p.run.job;
        e.payload_json =
            R"({"to":"queued","trigger":")" + std::string(to_string(p.run.trigger)) + "\"}";
        e.actor = "scheduler";
        if (p.start) {
            c.events.insert(c.events.end(), p.start->events.begin(), p.start->events.end());
        }
        events->push_back(c.events);
    }
    ++writes_in_flight_;
    runs_created completed = [self = shared_from_this(), batch,
                              events](core::result<std::vector<created_run>> r) mutable {
        // Completions run on the writer thread: hop back to the loop before touching state.
        boost::asio::post(self->loop_, [self, batch, events, r = std::move(r)]() mutable {
            --self->writes_in_flight_;
            self->on_runs_created(*batch, *events, std::move(r));
            self->maybe_finish_shutdown();
        });
    };
    if (deps_.submit_runs) {
        deps_.submit_runs(std::move(creations), std::move(completed));
        return;
    }
    boost::asio::post(store_pool_, [self = shared_from_this(), creations = std::move(creations),
                                    completed = std::move(completed)]() mutable {
        auto written = self->deps_.store.write_batch(creations, {});
        if (written) {
            completed(std::move(written->runs));
        } else {
            completed(written.error());
        }
    });
}

void engine::impl::on_runs_created(std::vector<pending_creation>& batch,
                                   std::vector<std::vector<new_event>>& events,
                                   core::result<std::vector<created_run>> r) {
    if (r && r->size() != batch.size()) {
        r = core::error::permanent("the store answered " + std::to_string(r->size()) +
                                   " run creations of " + std::to_string(batch.size()));
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        pending_creation& p = batch[i];
        if (!r) {
            release_started_creation(p);
            p.done(r.error());
            continue;
        }
        created_run& c = (*r)[i];
        const create_run_result result{c.id, c.created, c.fenced};
        if (c.fenced) {
            lost_scheduler(p.run.scheduler_epoch);
        }
        if (!c.created || stopped_) {
            // A run created started while stopping is found running at the next start, its
            // tasks interrupted (not counted as tries).
            release_started_creation(p);
            p.done(result);
            continue;
        }
        live_run& lr = adopt_created_run(*p.job, p.run, std::move(p.params), c.id, c.tasks,
                                         /*queued_event_written=*/true, p.definition);
        for (new_event& e : events[i]) {
            e.run = c.id;
            notify(e);
        }
        if (p.start) {
            begin_started_run(lr, *p.start);
        } else {
            p.job->waiting.push_back(lr.id);
            admit_runs(*p.job);
        }
        p.done(result);
    }
}

live_run& engine::impl::adopt_created_run(job_entry& job, const new_run& nr, param_values params,
                                          core::run_id id,
                                          const std::vector<task_instance_record>& tasks,
                                          bool queued_event_written,
                                          std::shared_ptr<const job_definition> definition) {
    if (!definition) {
        definition = job.definition;
    }
    auto run = std::make_unique<live_run>();
    run->id = id;
    run->job = &job;
    run->definition = definition;
    run->trigger = nr.trigger;
    run->backfill = nr.backfill;
    run->params = std::move(params);
    auto secs = [](const std::optional<core::time_point>& p) {
        return p ? std::optional(std::chrono::floor<std::chrono::seconds>(*p)) : std::nullopt;
    };
    run->logical_time = secs(nr.logical_time);
    run->data_interval_start = secs(nr.data_interval_start);
    run->data_interval_end = secs(nr.data_interval_end);
    run->tasks.resize(definition->graph.nodes().size());
    for (const task_instance_record& ti : tasks) {
        std::optional<std::size_t> node = definition->graph.find(ti.task);
        if (!node) {
            continue;
        }
        live_task& lt = run->tasks[*node];
        lt.node = *node;
        lt.spec = &definition->spec->tasks[*node];
        lt.id = ti.id;
        lt.state = ti.state;
        lt.max_tries = ti.max_tries;
        lt.interruptions = ti.interruptions;
        lt.epoch = ti.lease_epoch;
    }
    live_run& lr = *run;
    runs_.emplace(lr.id, std::move(run));
    log_->info("job={} run={}: created ({})", job.spec->name, lr.id.value, to_string(lr.trigger));
    if (queued_event_written) {
        return lr;
    }
    // The store committed the run itself; its event follows through the writer.
    write(
        {make_event("run.state", &lr, nullptr,
                    R"({"to":"queued","trigger":")" + std::string(to_string(lr.trigger)) + "\"}")},
        [](bool, const std::vector<transition_outcome>&) {});
    return lr;
}

}  // namespace sluice::scheduler
