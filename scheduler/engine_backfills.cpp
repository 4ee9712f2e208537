// Backfills (scheduler/backfill.hpp): creating one (or planning it, dry run), creating its runs
// one interval at a time as its max_active_runs allow, finishing, and continuing after a restart
// (pause, resume and cancel are in engine_backfill_control.cpp). Each interval is one store step
// fenced on the backfill's step count, with the run created in the same transaction, so a crash
// never loses or repeats one.

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/time.hpp"
#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

namespace {

// How long a backfill waits before it tries a failed store call again.
constexpr std::chrono::seconds backfill_retry_delay{5};

// The intervals of a backfill of `job` over the stored range.
core::result<std::vector<backfill_interval>> intervals_of(const job_entry& job,
                                                          const backfill_record& b) {
    if (!job.cron) {
        return core::error::permanent("job " + job.spec->name + " has no schedule");
    }
    return plan_backfill_intervals(next_of(job), floor_seconds(b.range_start),
                                   floor_seconds(b.range_end), b.order);
}

// The index of the first interval after `cursor` in the backfill's order.
std::size_t position_after(const std::vector<backfill_interval>& intervals, backfill_order order,
                           core::sys_seconds cursor) {
    for (std::size_t i = 0; i < intervals.size(); ++i) {
        const core::sys_seconds t = intervals[i].logical_time;
        if (order == backfill_order::oldest_first ? t > cursor : t < cursor) {
            return i;
        }
    }
    return intervals.size();
}

// Re-reads a backfill whose step did not apply: its state, step count and cursor as stored. A
// finished backfill is dropped; a running one continues after the stored cursor.
void reload_backfill(engine::impl& engine, live_backfill& bf) {
    bf.stepping = true;
    const core::backfill_id id = bf.record.id;
    engine.on_store(
        [self = engine.shared_from_this(), id] { return self->deps_.store.get_backfill(id); },
        [self = engine.shared_from_this(), id](core::result<std::optional<backfill_record>> r) {
            auto it = self->backfills_.find(id);
            if (it == self->backfills_.end()) {
                return;
            }
            live_backfill& bf = it->second;
            bf.stepping = false;
            if (!r || !*r) {
                self->log_->error("job={} backfill={}: could not re-read it: {}", bf.record.job,
                                  id.value, r ? "it disappeared" : r.error().message);
                self->retry_backfill_later(bf);
                return;
            }
            const backfill_record& stored = **r;
            if (is_terminal(stored.state)) {
                self->backfills_.erase(it);
                return;
            }
            bf.record.state = stored.state;
            bf.record.steps = stored.steps;
            bf.record.skipped = stored.skipped;
            bf.record.cursor = stored.cursor;
            bf.next = stored.cursor ? position_after(bf.intervals, bf.record.order,
                                                     floor_seconds(*stored.cursor))
                                    : 0;
            self->pump_backfill(bf);
        });
}

}  // namespace

new_event engine::impl::backfill_event(const live_backfill& bf, std::string_view from,
                                       std::string_view to, const std::string& actor) const {
    new_event e;
    e.at = now();
    e.kind = "backfill.state";
    e.job = bf.record.job;
    nlohmann::json payload{{"backfill_id", bf.record.id.value}, {"to", std::string(to)}};
    if (!from.empty()) {
        payload["from"] = std::string(from);
    }
    e.payload_json = payload.dump();
    e.actor = actor;
    return e;
}

void engine::impl::create_backfill(backfill_request request,
                                   std::function<void(backfill_result)> done) {
    auto it = jobs_.find(request.job);
    if (!started_ || it == jobs_.end() || it->second.removed) {
        done(backfill_error{backfill_errc::unknown_job, "no job named '" + request.job + "'"});
        return;
    }
    job_entry& job = it->second;
    if (!options_.run_backfills) {
        done(backfill_error{backfill_errc::shutting_down,
                            "this process does not run backfills; start them on `sluice serve`"});
        return;
    }
    if (shutting_down_) {
        done(backfill_error{backfill_errc::shutting_down,
                            "the scheduler is shutting down; start the backfill of job " +
                                request.job + " again after the restart"});
        return;
    }
    if (!job.cron) {
        done(backfill_error{backfill_errc::bad_request,
                            "job " + request.job +
                                " has no schedule: a backfill runs one run per schedule "
                                "interval; trigger runs of this job by hand instead"});
        return;
    }
    if (request.max_active_runs < 1 || request.max_active_runs > max_backfill_active_runs) {
        done(backfill_error{
            backfill_errc::bad_request,
            "max_active_runs must be 1-" + std::to_string(max_backfill_active_runs)});
        return;
    }
    // Checked now, so a bad param is a 400 rather than a backfill of failing runs.
    if (auto checked = resolve_params(*job.spec, request.params); !checked) {
        done(backfill_error{backfill_errc::bad_request, checked.error().message});
        return;
    }
    auto intervals = plan_backfill_intervals(next_of(job), request.from, request.to, request.order);
    if (!intervals) {
        done(backfill_error{backfill_errc::bad_request,
                            "job " + request.job + " (schedule \"" + *job.spec->schedule +
                                "\" in " + job.spec->timezone + "): " + intervals.error().message});
        return;
    }
    if (request.dry_run) {
        const core::sys_seconds lo =
            std::min(intervals->front().logical_time, intervals->back().logical_time);
        const core::sys_seconds hi =
            std::max(intervals->front().logical_time, intervals->back().logical_time);
        on_store([self = shared_from_this(), name = request.job, lo,
                  hi]() { return self->deps_.store.list_runs_by_logical_time(name, lo, hi); },
                 [self = shared_from_this(), &job, request, intervals = std::move(*intervals),
                  done = std::move(done)](core::result<std::vector<run_record>> existing) {
                     if (!existing) {
                         done(backfill_error{backfill_errc::store_failure,
                                             "could not read the runs of job " + request.job +
                                                 ": " + existing.error().message});
                         return;
                     }
                     std::map<core::sys_seconds, interval_status> status;
                     for (const run_record& r : *existing) {
                         if (r.logical_time) {
                             auto& s = status[floor_seconds(*r.logical_time)];
                             s = fold_interval_status(s, r.state);
                         }
                     }
                     backfill_response response;
                     for (const backfill_interval& iv : intervals) {
                         planned_backfill_run p;
                         p.interval = iv;
                         if (auto s = status.find(iv.logical_time); s != status.end()) {
                             p.existing = s->second;
                         }
                         p.skip = !should_run_interval(request.reprocess, p.existing);
                         if (self->deps_.backfill_bounds) {
                             p.bounds = self->deps_.backfill_bounds(*job.spec, iv);
                         }
                         response.runs.push_back(std::move(p));
                     }
                     done(std::move(response));
                 });
        return;
    }
    new_backfill nb;
    nb.job = request.job;
    nb.range_start = request.from;
    nb.range_end = request.to;
    nb.order = request.order;
    nb.max_active_runs = request.max_active_runs;
    nb.reprocess = request.reprocess;
    nb.planned = static_cast<std::int64_t>(intervals->size());
    nb.params_json = params_to_json(request.params);
    nb.actor = request.actor;
    nb.created_at = now();
    on_store([self = shared_from_this(), nb]() { return self->deps_.store.create_backfill(nb); },
             [self = shared_from_this(), &job, nb, intervals = std::move(*intervals),
              done = std::move(done)](core::result<core::backfill_id> id) mutable {
                 if (!id) {
                     done(backfill_error{backfill_errc::store_failure,
                                         "could not create the backfill of job " + nb.job + ": " +
                                             id.error().message});
                     return;
                 }
                 backfill_record rec;
                 rec.id = *id;
                 rec.job = nb.job;
                 rec.range_start = nb.range_start;
                 rec.range_end = nb.range_end;
                 rec.order = nb.order;
                 rec.max_active_runs = nb.max_active_runs;
                 rec.reprocess = nb.reprocess;
                 rec.state = backfill_state::running;
                 rec.planned = nb.planned;
                 rec.params_json = nb.params_json;
                 rec.actor = nb.actor;
                 rec.created_at = nb.created_at;
                 rec.updated_at = nb.created_at;
                 live_backfill& bf = self->backfills_[rec.id];
                 bf.record = rec;
                 bf.job = &job;
                 bf.intervals = std::move(intervals);
                 self->log_->info(
                     "job={} backfill={}: created by {}: {} interval(s) {} from {} to {}, "
                     "max_active_runs={}, reprocess={}",
                     nb.job, rec.id.value, nb.actor, nb.planned, to_string(nb.order),
                     core::format_rfc3339_utc(floor_seconds(nb.range_start)),
                     core::format_rfc3339_utc(floor_seconds(nb.range_end)), nb.max_active_runs,
                     to_string(nb.reprocess));
                 self->write({self->backfill_event(bf, "", "running", nb.actor)},
                             [](bool, const std::vector<transition_outcome>&) {});
                 self->pump_backfill(bf);
                 done(backfill_response{rec, {}});
             });
}

void engine::impl::pump_backfill(live_backfill& bf) {
    // Only the scheduler node creates backfill runs and finishes backfills
    // (docs/cluster.md#the-scheduler).
    if (!leading() || bf.stepping || bf.finishing || bf.retry || shutting_down_ || stopped_ ||
        bf.record.state != backfill_state::running || bf.job->paused || bf.job->removed) {
        return;
    }
    if (bf.next >= bf.intervals.size()) {
        if (bf.active.empty()) {
            finish_backfill(bf);
        }
        return;
    }
    if (static_cast<std::int64_t>(bf.active.size()) + bf.foreign_active >=
        bf.record.max_active_runs) {
        return;
    }
    const backfill_interval iv = bf.intervals[bf.next];
    const job_entry& job = *bf.job;
    // Resolved per run against the job as configured now: a reload may have changed its params.
    auto given = params_from_json(bf.record.params_json);
    auto resolved =
        given ? resolve_params(*job.spec, *given) : core::result<param_values>(given.error());
    if (!resolved) {
        log_->error(
            "job={} backfill={}: cannot create the run of {}: {}; fix the job's params "
            "or cancel the backfill",
            bf.record.job, bf.record.id.value, core::format_rfc3339_utc(iv.logical_time),
            resolved.error().message);
        retry_backfill_later(bf);
        return;
    }
    auto params = std::make_shared<param_values>(std::move(*resolved));
    new_run nr;
    nr.job = job.spec->name;
    nr.run_key = backfill_run_key(bf.record.id, iv.logical_time);
    nr.trigger = trigger_kind::backfill;
    nr.params_json = params_to_json(*params);
    nr.logical_time = iv.logical_time;
    nr.data_interval_start = iv.data_interval_start;
    nr.data_interval_end = iv.data_interval_end;
    nr.backfill = bf.record.id;
    nr.created_at = now();
    nr.scheduler_epoch = creation_epoch();
    for (const config::task_spec& task : job.spec->tasks) {
        nr.tasks.push_back(new_task_instance{task.name, std::max(1, task.retry.max_attempts)});
    }
    backfill_step step;
    step.backfill = bf.record.id;
    step.expected_steps = bf.record.steps;
    step.cursor = iv.logical_time;
    step.at = nr.created_at;
    auto shared_nr = std::make_shared<new_run>(nr);
    step.run = std::move(nr);
    struct stepped {
        backfill_step_result result;
        interval_status existing = interval_status::no_run;
        std::vector<task_instance_record> tasks;
    };
    bf.stepping = true;
    on_store(
        [self = shared_from_this(), step = std::move(step),
         mode = bf.record.reprocess]() mutable -> core::result<stepped> {
            run_store& store = self->deps_.store;
            // Decided and written on the store thread, where run creation is serialized, so a
            // run of the interval cannot appear between the look and the step.
            auto existing =
                store.list_runs_by_logical_time(step.run->job, step.cursor, step.cursor);
            if (!existing) {
                return existing.error();
            }
            stepped out;
            for (const run_record& r : *existing) {
                out.existing = fold_interval_status(out.existing, r.state);
            }
            if (!should_run_interval(mode, out.existing)) {
                step.run.reset();
            }
            auto applied = store.apply_backfill_step(step);
            if (!applied) {
                return applied.error();
            }
            out.result = *applied;
            if (out.result.run && out.result.run->created) {
                auto tasks = store.list_task_instances(out.result.run->id);
                if (!tasks) {
                    return tasks.error();
                }
                out.tasks = std::move(*tasks);
            }
            return out;
        },
        [self = shared_from_this(), id = bf.record.id, iv, params,
         shared_nr](core::result<stepped> r) {
            auto it = self->backfills_.find(id);
            if (it == self->backfills_.end()) {
                return;
            }
            live_backfill& bf = it->second;
            bf.stepping = false;
            const std::string& job = bf.record.job;
            const std::string tick = core::format_rfc3339_utc(iv.logical_time);
            if (!r) {
                self->log_->error("job={} backfill={}: could not record interval {}: {}", job,
                                  id.value, tick, r.error().message);
                self->retry_backfill_later(bf);
                return;
            }
            if (r->result.fenced) {
                self->lost_scheduler(shared_nr->scheduler_epoch);
                return;  // the node holding the lease takes the step
            }
            if (!r->result.applied) {
                // Paused or canceled meanwhile, or another instance took the step: re-read
                // where the backfill stands and go on from there.
                self->log_->debug("job={} backfill={}: step for {} not applied", job, id.value,
                                  tick);
                reload_backfill(*self, bf);
                return;
            }
            // Created while shutting down: it stays queued and the next start runs it.
            ++bf.record.steps;
            ++bf.next;
            bf.record.cursor = iv.logical_time;
            if (!r->result.run) {
                ++bf.record.skipped;
                self->log_->info(
                    "job={} backfill={}: interval {} skipped: its runs {} "
                    "(reprocess={})",
                    job, id.value, tick,
                    r->existing == interval_status::in_flight   ? "are still active"
                    : r->existing == interval_status::succeeded ? "succeeded"
                                                                : "failed",
                    to_string(bf.record.reprocess));
            } else if (r->result.run->created && !self->stopped_ && !self->shutting_down_) {
                live_run& run = self->adopt_created_run(*bf.job, *shared_nr, *params,
                                                        r->result.run->id, r->tasks);
                bf.active.insert(run.id);
                self->start_run(run);
            }
            self->pump_backfill(bf);
        });
}

void engine::impl::retry_backfill_later(live_backfill& bf) {
    bf.retry = std::make_unique<boost::asio::steady_timer>(loop_);
    bf.retry->expires_after(backfill_retry_delay);
    bf.retry->async_wait([self = shared_from_this(), id = bf.record.id](boost::system::error_code) {
        auto it = self->backfills_.find(id);
        if (it != self->backfills_.end()) {
            it->second.retry.reset();
            self->pump_backfill(it->second);
        }
    });
}

void engine::impl::pump_job_backfills(const job_entry& job) {
    for (auto& [id, bf] : backfills_) {
        if (bf.job == &job) {
            pump_backfill(bf);
        }
    }
}

void engine::impl::on_backfill_run_ended(const live_run& run) {
    if (!run.backfill) {
        return;
    }
    auto it = backfills_.find(*run.backfill);
    if (it == backfills_.end()) {
        return;
    }
    it->second.active.erase(run.id);
    // Posted: the run's own bookkeeping finishes before the next interval's run is created.
    on_loop([self = shared_from_this(), id = *run.backfill] {
        auto it = self->backfills_.find(id);
        if (it != self->backfills_.end()) {
            self->pump_backfill(it->second);
        }
    });
}

void engine::impl::finish_backfill(live_backfill& bf) {
    bf.finishing = true;
    const core::backfill_id id = bf.record.id;
    struct ending {
        bool runs_unfinished = false;  // the store still has runs of it queued or running
        std::optional<backfill_state> final_state;  // nullopt: paused or canceled meanwhile
    };
    on_store(
        [self = shared_from_this(), id]() -> core::result<ending> {
            auto rec = self->deps_.store.get_backfill(id);
            if (!rec) {
                return rec.error();
            }
            if (!*rec) {
                return core::error::permanent("backfill " + id.to_string() + " disappeared");
            }
            const backfill_run_counts& c = (*rec)->runs;
            if (c.queued + c.running > 0) {
                // A run this engine stopped driving (a store error) waits for reconciliation.
                return ending{true, std::nullopt};
            }
            // Every interval ran or was skipped; it succeeded when every run it created did.
            const backfill_state final_state =
                c.failed > 0 || c.canceled > 0 ? backfill_state::failed : backfill_state::success;
            const backfill_state from[] = {backfill_state::running};
            auto moved = self->deps_.store.set_backfill_state(id, from, final_state, self->now());
            if (!moved) {
                return moved.error();
            }
            return ending{false, *moved ? std::optional(final_state) : std::nullopt};
        },
        [self = shared_from_this(), id](core::result<ending> r) {
            auto it = self->backfills_.find(id);
            if (it == self->backfills_.end()) {
                return;
            }
            live_backfill& bf = it->second;
            bf.finishing = false;
            if (!r || r->runs_unfinished) {
                self->log_->warn(
                    "job={} backfill={}: cannot finish yet: {}", bf.record.job, id.value,
                    r ? "some of its runs are still unfinished in the store" : r.error().message);
                self->retry_backfill_later(bf);
                return;
            }
            if (!r->final_state) {
                return;  // paused or canceled meanwhile
            }
            const backfill_state final_state = *r->final_state;
            self->log_->log(
                final_state == backfill_state::success ? spdlog::level::info : spdlog::level::warn,
                "job={} backfill={}: {} ({} interval(s), {} skipped)", bf.record.job, id.value,
                to_string(final_state), bf.record.planned, bf.record.skipped);
            self->write({self->backfill_event(bf, "running", to_string(final_state), "scheduler")},
                        [](bool, const std::vector<transition_outcome>&) {});
            self->backfills_.erase(it);
        });
}

bool engine::impl::adopt_backfill(const backfill_record& record) {
    auto job_it = jobs_.find(record.job);
    if (job_it == jobs_.end()) {
        log_->error(
            "backfill={}: job {} is no longer configured; the backfill stays {} until "
            "it is back or the backfill is canceled",
            record.id.value, record.job, to_string(record.state));
        return false;
    }
    auto intervals = intervals_of(job_it->second, record);
    if (!intervals) {
        log_->error("job={} backfill={}: cannot continue: {}; cancel the backfill", record.job,
                    record.id.value, intervals.error().message);
        return false;
    }
    live_backfill& bf = backfills_[record.id];
    bf.record = record;
    bf.job = &job_it->second;
    bf.intervals = std::move(*intervals);
    bf.next = record.cursor
                  ? position_after(bf.intervals, record.order, floor_seconds(*record.cursor))
                  : 0;
    log_->info("job={} backfill={}: {} at {} of {} interval(s)", record.job, record.id.value,
               record.state == backfill_state::running ? "continues" : "stays paused", bf.next,
               bf.intervals.size());
    return true;
}

}  // namespace sluice::scheduler
