// The schedule side of the engine: the timer heap over job fire times, ticks and catch-up,
// concurrency policies, manual triggers, pause/unpause.

#include <spdlog/spdlog.h>

#include "core/time.hpp"
#include "scheduler/catchup.hpp"
#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

void engine::impl::arm_schedule_timer() {
    if (shutting_down_ || timer_heap_.empty()) {
        schedule_timer_.cancel();
        return;
    }
    // Wall-clock time to the earliest tick, re-read at least every max_timer_sleep: a steady
    // timer does not follow wall-clock changes, so long waits are cut into checks.
    auto wait = until(timer_heap_.begin()->first);
    auto cap =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.max_timer_sleep);
    schedule_timer_.expires_after(std::min(wait, cap));
    schedule_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && !self->stopped_ && !self->shutting_down_) {
            self->on_schedule_timer();
        }
    });
}

void engine::impl::on_schedule_timer() {
    const core::sys_seconds t = std::chrono::floor<std::chrono::seconds>(now());
    // The runs of every tick due now are created as one batch (one commit).
    creation_batch hold(*this);
    // Re-evaluated against the wall clock: a wakeup before the tick (the clock went back, or the
    // steady timer ran ahead) fires nothing and re-arms.
    while (!timer_heap_.empty() && timer_heap_.begin()->first <= t) {
        std::string name = timer_heap_.begin()->second;
        timer_heap_.erase(timer_heap_.begin());
        job_entry& job = jobs_.at(name);
        job.next_fire.reset();
        plan_job_ticks(job, /*resuming=*/false);
    }
    arm_schedule_timer();
}

void engine::impl::plan_job_ticks(job_entry& job, bool resuming) {
    if (job.next_fire) {
        timer_heap_.erase({*job.next_fire, job.spec->name});
        job.next_fire.reset();
    }
    if (!job.cron || job.paused || job.removed || shutting_down_ || !options_.run_schedules) {
        return;
    }
    const core::sys_seconds t = std::chrono::floor<std::chrono::seconds>(now());
    tick_plan plan = plan_ticks(next_of(job), job.spec->catchup, job.spec->max_catchup_runs,
                                job.since, t, resuming);
    if (resuming && !plan.fire.empty()) {
        log_->info("job={}: catching up {} tick(s) (catchup={}), newest {}", job.spec->name,
                   plan.fire.size(), config::to_string(job.spec->catchup),
                   core::format_rfc3339_utc(plan.fire.back()));
    }
    {
        creation_batch hold(*this);  // catch-up ticks: one batch
        for (core::sys_seconds tick : plan.fire) {
            fire_tick(job, tick);
        }
    }
    job.since = std::max(job.since, t);
    if (plan.next) {
        job.next_fire = plan.next;
        timer_heap_.insert({*plan.next, job.spec->name});
    }
}

void engine::impl::fire_tick(job_entry& job, core::sys_seconds tick) {
    const std::string& name = job.spec->name;
    const std::string tick_text = core::format_rfc3339_utc(tick);
    if (!leading()) {
        // Another node holds the scheduler lease and creates it (docs/cluster.md#the-scheduler).
        log_->debug("job={}: tick {} left to the scheduler node", name, tick_text);
        return;
    }
    if (job.spec->concurrency == config::concurrency_policy::forbid &&
        (!job.active.empty() || !job.waiting.empty() || job.creating > 0 || job.starting > 0)) {
        log_->warn("job={}: tick {} skipped: a run is still active (concurrency: forbid)", name,
                   tick_text);
        new_event e;
        e.at = now();
        e.kind = "run.skipped";
        e.job = name;
        e.payload_json = R"({"logical_time":")" + tick_text + R"(","reason":"concurrency forbid"})";
        e.actor = "scheduler";
        write({e}, [](bool, const std::vector<transition_outcome>&) {});
        return;
    }
    if (job.spec->concurrency == config::concurrency_policy::replace) {
        std::vector<core::run_id> victims(job.active.begin(), job.active.end());
        victims.insert(victims.end(), job.waiting.begin(), job.waiting.end());
        for (core::run_id id : victims) {
            if (live_run* run = find_run(id)) {
                log_->info("job={} run={}: canceled by tick {} (concurrency: replace)", name,
                           id.value, tick_text);
                end_run(*run, run_ending::cancel, "scheduler");
            }
        }
    }
    new_run nr;
    nr.job = name;
    nr.run_key = scheduled_run_key(name, tick);
    nr.trigger = trigger_kind::scheduled;
    param_values params = default_params(*job.spec);
    nr.params_json = params_to_json(params);
    nr.logical_time = tick;
    nr.data_interval_end = tick;
    nr.data_interval_start = previous_tick(next_of(job), tick).value_or(tick);
    nr.created_at = now();
    nr.scheduler_epoch = creation_epoch();
    ++job.creating;
    create_run(
        job, std::move(nr), std::move(params),
        [self = shared_from_this(), &job, name, tick_text](core::result<create_run_result> r) {
            --job.creating;
            if (!r) {
                self->log_->error("job={}: could not create the run of tick {}: {}", name,
                                  tick_text, r.error().message);
            } else if (r->fenced) {
                self->log_->info(
                    "job={}: tick {} not created here: the scheduler lease moved to another "
                    "node, which creates it",
                    name, tick_text);
            } else if (!r->created) {
                self->log_->info("job={}: tick {} already has run {}", name, tick_text,
                                 r->id.value);
            }
        });
}

void engine::impl::trigger(trigger_request request, std::function<void(trigger_result)> done) {
    auto it = jobs_.find(request.job);
    if (!started_ || it == jobs_.end() || it->second.removed) {
        done(trigger_error{trigger_errc::unknown_job, "no job named '" + request.job + "'"});
        return;
    }
    job_entry& job = it->second;
    if (shutting_down_) {
        done(trigger_error{trigger_errc::shutting_down,
                           "the scheduler is shutting down; trigger job " + request.job +
                               " again after the restart"});
        return;
    }
    if (job.paused) {
        done(trigger_error{trigger_errc::paused,
                           "job " + request.job + " is paused; unpause it to trigger runs"});
        return;
    }
    auto params = resolve_params(*job.spec, request.params);
    if (!params) {
        done(trigger_error{trigger_errc::bad_params, params.error().message});
        return;
    }
    new_run nr;
    nr.job = request.job;
    nr.run_key = request.idempotency_key ? manual_run_key(request.job, *request.idempotency_key)
                                         : unique_run_key(request.job);
    nr.trigger = trigger_kind::manual;
    nr.params_json = params_to_json(*params);
    nr.created_at = now();
    const core::sys_seconds t = std::chrono::floor<std::chrono::seconds>(nr.created_at);
    const core::sys_seconds logical = request.logical_time.value_or(t);
    nr.logical_time = logical;
    nr.data_interval_start = request.data_interval_start.value_or(logical);
    nr.data_interval_end = request.data_interval_end.value_or(logical);
    create_run(job, std::move(nr), std::move(*params),
               [done = std::move(done), actor = request.actor, self = shared_from_this(),
                name = request.job](core::result<create_run_result> r) {
                   if (!r) {
                       done(trigger_error{
                           trigger_errc::store_failure,
                           "could not create a run of job " + name + ": " + r.error().message});
                       return;
                   }
                   if (r->created) {
                       self->log_->info("job={} run={}: triggered by {}", name, r->id.value, actor);
                   }
                   done(trigger_response{r->id, r->created});
               });
}

void engine::impl::set_paused(std::string name, bool paused, std::string actor,
                              std::function<void(core::result<bool>)> done) {
    if (auto it = jobs_.find(name); it == jobs_.end() || it->second.removed) {
        done(false);
        return;
    }
    on_store([self = shared_from_this(), name,
              paused] { return self->deps_.store.set_paused(name, paused); },
             [self = shared_from_this(), name, paused, actor = std::move(actor),
              done = std::move(done)](core::result<bool> r) {
                 if (!r || !*r) {
                     done(r);
                     return;
                 }
                 job_entry& job = self->jobs_.at(name);
                 const bool was_paused = job.paused;
                 job.paused = paused;
                 new_event e;
                 e.at = self->now();
                 e.kind = paused ? "job.paused" : "job.unpaused";
                 e.job = name;
                 e.actor = actor;
                 self->write({e}, [](bool, const std::vector<transition_outcome>&) {});
                 self->log_->info("job={}: {} by {}", name, paused ? "paused" : "unpaused", actor);
                 if (was_paused && !paused) {
                     self->plan_job_ticks(job, /*resuming=*/true);
                     self->arm_schedule_timer();
                     self->pump_job_backfills(job);
                 } else if (paused && job.next_fire) {
                     self->timer_heap_.erase({*job.next_fire, name});
                     job.next_fire.reset();
                 }
                 done(true);
             });
}

std::vector<job_status> engine::impl::job_statuses() const {
    std::vector<job_status> out;
    for (const auto& [name, job] : jobs_) {
        if (job.removed) {
            continue;
        }
        out.push_back(job_status{name, job.paused, job.next_fire,
                                 static_cast<int>(job.active.size()),
                                 static_cast<int>(job.waiting.size())});
    }
    return out;
}

}  // namespace sluice::scheduler
