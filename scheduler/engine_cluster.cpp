// The engine's side of the scheduler lease (docs/cluster.md#the-scheduler). The daemon's node
// membership claims the lease with every heartbeat and reports the outcome here; only the holder
// creates scheduled and backfill runs, each carrying the lease's epoch, which the store checks
// in the creation's own transaction. Every report also reads what other nodes changed in the
// store (paused jobs; on the scheduler, backfills), since only the store is shared.

#include <spdlog/spdlog.h>

#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

bool engine::impl::leading() const {
    if (!options_.elected_scheduler) {
        return true;
    }
    return scheduler_epoch_ != 0 && std::chrono::steady_clock::now() < scheduler_until_;
}

void engine::impl::cluster_beat(std::optional<scheduler_grant> grant) {
    if (stopped_) {
        return;
    }
    const bool was_leading = leading();
    const std::int64_t was_epoch = scheduler_epoch_;
    scheduler_epoch_ = grant ? grant->epoch : 0;
    scheduler_until_ = grant ? grant->until : std::chrono::steady_clock::time_point{};
    if (grant && (!was_leading || grant->epoch != was_epoch)) {
        // Held again after a lapse, or taken over: the ticks missed meanwhile are caught up
        // from what the store holds, as a restarted daemon does.
        log_->info(
            "this node is the scheduler now (lease epoch {}): it creates the scheduled "
            "and backfill runs",
            grant->epoch);
        take_over_ = true;
    } else if (!grant && was_epoch != 0) {
        log_->info("this node is no longer the scheduler: another node holds the lease");
    }
    if (adopted_ && !shutting_down_) {
        sync_from_store(take_over_);
    }
}

void engine::impl::lost_scheduler(std::int64_t epoch) {
    if (epoch == 0 || epoch != scheduler_epoch_) {
        return;
    }
    log_->warn(
        "this node no longer holds the scheduler lease (epoch {} moved on): it creates no "
        "scheduled or backfill runs until it holds the lease again",
        epoch);
    scheduler_epoch_ = 0;
}

void engine::impl::sync_from_store(bool take_over) {
    if (syncing_) {
        return;  // the next beat takes it up (take_over_ stays set until a sync applies it)
    }
    syncing_ = true;
    const std::int64_t epoch = scheduler_epoch_;
    struct synced {
        std::vector<job_record> jobs;
        std::optional<std::vector<backfill_record>> backfills;
    };
    on_store(
        [self = shared_from_this()]() -> core::result<synced> {
            synced out;
            auto jobs = self->deps_.store.list_jobs();
            if (!jobs) {
                return jobs.error();
            }
            out.jobs = std::move(*jobs);
            if (self->options_.run_backfills) {
                auto backfills = self->deps_.store.list_unfinished_backfills();
                if (!backfills) {
                    return backfills.error();
                }
                out.backfills = std::move(*backfills);
            }
            return out;
        },
        [self = shared_from_this(), take_over, epoch](core::result<synced> r) {
            self->syncing_ = false;
            if (self->stopped_ || self->shutting_down_) {
                return;
            }
            if (!r) {
                self->log_->warn("cannot read what other nodes changed: {}", r.error().message);
                return;
            }
            // Taken over only while the lease that asked for it is still held.
            const bool take = take_over && self->leading() && self->scheduler_epoch_ == epoch;
            {
                creation_batch hold(*self);  // catch-up ticks of every job: one batch
                for (const job_record& record : r->jobs) {
                    self->sync_job(record, take);
                }
            }
            if (take) {
                self->take_over_ = false;
            }
            if (r->backfills) {
                self->sync_backfills(*r->backfills);
            }
            self->arm_schedule_timer();
        });
}

void engine::impl::sync_job(const job_record& record, bool take_over) {
    auto it = jobs_.find(record.name);
    if (it == jobs_.end() || it->second.removed) {
        return;
    }
    job_entry& job = it->second;
    bool resumed = false;
    if (record.paused != job.paused) {
        log_->info("job={}: {} on another node", record.name,
                   record.paused ? "paused" : "unpaused");
        job.paused = record.paused;
        resumed = !job.paused;
        if (job.paused && job.next_fire) {
            timer_heap_.erase({*job.next_fire, record.name});
            job.next_fire.reset();
        }
    }
    if (take_over) {
        // While another node scheduled, this one's `since` moved on without firing anything.
        if (auto since = stored_since(record, *job.spec)) {
            job.since = *since;
        }
    }
    if ((take_over || resumed) && job.cron && !job.paused) {
        plan_job_ticks(job, /*resuming=*/true);
    }
    if (resumed) {
        pump_job_backfills(job);
    }
}

void engine::impl::sync_backfills(const std::vector<backfill_record>& records) {
    std::set<core::backfill_id> unfinished;
    for (const backfill_record& record : records) {
        unfinished.insert(record.id);
        auto it = backfills_.find(record.id);
        if (it == backfills_.end()) {
            // Created through another node's API, or left by a former scheduler: the scheduler
            // drives it.
            if (!leading() || !adopt_backfill(record)) {
                continue;
            }
            it = backfills_.find(record.id);
        }
        live_backfill& bf = it->second;
        bf.foreign_active =
            std::max<std::int64_t>(0, record.runs.queued + record.runs.running -
                                          static_cast<std::int64_t>(bf.active.size()));
        if (bf.stepping || bf.finishing) {
            continue;
        }
        if (bf.record.state != record.state) {
            log_->info("job={} backfill={}: {} on another node", record.job, record.id.value,
                       to_string(record.state));
            bf.record.state = record.state;
        }
        pump_backfill(bf);
    }
    // Known here but finished in the store: canceled through another node (a backfill finishes
    // only once none of its runs is queued or running, ours included).
    for (auto it = backfills_.begin(); it != backfills_.end();) {
        live_backfill& bf = it->second;
        if (unfinished.count(it->first) > 0 || bf.stepping || bf.finishing) {
            ++it;
            continue;
        }
        log_->info("job={} backfill={}: ended on another node", bf.record.job, it->first.value);
        const std::set<core::run_id> victims = bf.active;
        it = backfills_.erase(it);
        for (core::run_id v : victims) {
            if (live_run* run = find_run(v)) {
                end_run(*run, run_ending::cancel, "scheduler");
            }
        }
    }
}

}  // namespace sluice::scheduler
