// Graceful shutdown (docs/architecture.md#recovery-at-startup): stop intake, let running attempts
// finish for up to the grace period, then stop them and record them interrupted; and the abrupt
// path the destructor takes when the loop is already gone.

#include <spdlog/spdlog.h>

#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

void engine::impl::shutdown(std::function<void()> done) {
    if (stopped_) {
        done();
        return;
    }
    shutdown_done_.push_back(std::move(done));
    if (shutting_down_) {
        return;
    }
    shutting_down_ = true;
    schedule_timer_.cancel();
    for (auto& [id, timer] : deferred_) {
        timer->cancel();  // those runs stay with their owner, or go to the next start
    }
    // Retry waits end here: those tasks stay up_for_retry with next_attempt_at in the store.
    for (auto& [id, run] : runs_) {
        for (live_task& t : run->tasks) {
            if (!t.running && t.timer) {
                t.timer->cancel();
            }
        }
    }
    // Backfills create no more runs; one waiting to retry a store call stops waiting.
    for (auto& [id, bf] : backfills_) {
        if (bf.retry) {
            bf.retry->cancel();
        }
    }
    const auto grace = options_.shutdown_grace.value_or(
        std::chrono::duration_cast<std::chrono::milliseconds>(deps_.config.shutdown_grace));
    log_->info("scheduler shutting down: {} attempt(s) running, grace {} ms", attempts_running_,
               grace.count());
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->stopped_) {
            return;
        }
        self->grace_elapsed_ = true;
        int stopped = 0;
        for (auto& [id, run] : self->runs_) {
            for (live_task& t : run->tasks) {
                if (t.stop) {
                    t.stop->request(attempt_stop_reason::shutdown);
                    ++stopped;
                }
            }
        }
        self->log_->warn(
            "shutdown grace elapsed: stopping {} attempt(s); they are recorded "
            "interrupted and retried at the next start",
            stopped);
    });
    maybe_finish_shutdown();
}

void engine::impl::maybe_finish_shutdown() {
    if (!shutting_down_ || stopped_ || attempts_running_ > 0 || writes_in_flight_ > 0) {
        return;
    }
    stopped_ = true;
    grace_timer_.cancel();
    heartbeat_timer_.cancel();
    schedule_timer_.cancel();
    for (auto& [id, run] : runs_) {
        if (run->deadline) {
            run->deadline->cancel();
        }
        for (live_task& t : run->tasks) {
            if (t.timer) {
                t.timer->cancel();
            }
        }
    }
    log_->info("scheduler stopped");
    auto callbacks = std::move(shutdown_done_);
    for (auto& cb : callbacks) {
        cb();
    }
    // Waiters of runs that did not finish learn that they will not finish in this process.
    auto waiters = std::move(waiters_);
    for (auto& [id, list] : waiters) {
        for (auto& w : list) {
            w(core::error::transient("the scheduler stopped before run " + id.to_string() +
                                     " finished; it continues at the next start"));
        }
    }
}

void engine::impl::abandon() {
    // Runs on the destroying thread with the loop stopped (or after shutdown): nothing is written;
    // attempts still executing are asked to stop so the pools can be joined.
    stopped_ = true;
    for (auto& [id, run] : runs_) {
        for (live_task& t : run->tasks) {
            if (t.stop) {
                t.stop->request(attempt_stop_reason::shutdown);
            }
        }
    }
    task_pool_.join();
    store_pool_.join();
}

}  // namespace sluice::scheduler
