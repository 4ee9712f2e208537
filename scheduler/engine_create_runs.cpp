// Run creation: manual triggers, ticks, catch-up and trigger_job children become runs through
// the group commit (engine_dependencies::submit_runs), each run with its pending task instances
// and its queued event in one commit. Creations made while a creation_batch is open (the ticks
// due at one instant, catch-up at startup) go as one submission. Design: docs/operations.md,
// "Group commit".

#include <spdlog/spdlog.h>

#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

void engine::impl::create_run(job_entry& job, new_run nr, param_values params,
                              std::function<void(core::result<create_run_result>)> done) {
    for (const config::task_spec& task : job.spec->tasks) {
        nr.tasks.push_back(new_task_instance{task.name, std::max(1, task.retry.max_attempts)});
    }
    held_creations_.push_back(
        pending_creation{&job, std::move(nr), std::move(params), std::move(done)});
    if (holding_creations_ == 0) {
        flush_creations();
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
    for (const pending_creation& p : *batch) {
        run_creation& c = creations.emplace_back();
        c.run = p.run;
        new_event& e = c.events.emplace_back();
        e.at = now();
        e.kind = "run.state";
        e.job = p.run.job;
        e.payload_json =
            R"({"to":"queued","trigger":")" + std::string(to_string(p.run.trigger)) + "\"}";
        e.actor = "scheduler";
    }
    auto events = std::make_shared<std::vector<new_event>>();
    for (const run_creation& c : creations) {
        events->push_back(c.events.front());
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
                                   std::vector<new_event>& events,
                                   core::result<std::vector<created_run>> r) {
    if (r && r->size() != batch.size()) {
        r = core::error::permanent("the store answered " + std::to_string(r->size()) +
                                   " run creations of " + std::to_string(batch.size()));
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        pending_creation& p = batch[i];
        if (!r) {
            p.done(r.error());
            continue;
        }
        created_run& c = (*r)[i];
        const create_run_result result{c.id, c.created};
        if (!c.created || stopped_) {
            p.done(result);
            continue;
        }
        events[i].run = c.id;
        live_run& lr = adopt_created_run(*p.job, p.run, std::move(p.params), c.id, c.tasks,
                                         /*queued_event_written=*/true);
        notify(events[i]);
        p.job->waiting.push_back(lr.id);
        admit_runs(*p.job);
        p.done(result);
    }
}

live_run& engine::impl::adopt_created_run(job_entry& job, const new_run& nr, param_values params,
                                          core::run_id id,
                                          const std::vector<task_instance_record>& tasks,
                                          bool queued_event_written) {
    auto run = std::make_unique<live_run>();
    run->id = id;
    run->job = &job;
    run->definition = job.definition;
    run->trigger = nr.trigger;
    run->backfill = nr.backfill;
    run->params = std::move(params);
    auto secs = [](const std::optional<core::time_point>& p) {
        return p ? std::optional(std::chrono::floor<std::chrono::seconds>(*p)) : std::nullopt;
    };
    run->logical_time = secs(nr.logical_time);
    run->data_interval_start = secs(nr.data_interval_start);
    run->data_interval_end = secs(nr.data_interval_end);
    run->tasks.resize(job.graph.nodes().size());
    for (const task_instance_record& ti : tasks) {
        std::optional<std::size_t> node = job.graph.find(ti.task);
        if (!node) {
            continue;
        }
        live_task& lt = run->tasks[*node];
        lt.node = *node;
        lt.spec = &job.spec->tasks[*node];
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
