#include "scheduler/engine_impl.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.hpp"

namespace sluice::scheduler {

std::string state_payload(std::string_view from, std::string_view to, int try_number) {
    nlohmann::json j{{"from", std::string(from)}, {"to", std::string(to)}};
    if (try_number > 0) {
        j["try"] = try_number;
    }
    return j.dump();
}

engine::impl::impl(engine_dependencies deps, engine_options options)
    : deps_(std::move(deps)),
      options_(std::move(options)),
      loop_(deps_.loop),
      log_(core::component_logger("scheduler")),
      task_pool_(static_cast<std::size_t>(std::max(1, deps_.config.workers))),
      schedule_timer_(loop_),
      heartbeat_timer_(loop_),
      grace_timer_(loop_),
      queue_(dispatch_limits{std::max(1, deps_.config.workers), deps_.config.pools}),
      rng_(options_.jitter_seed ? *options_.jitter_seed : std::random_device{}()),
      launcher_(make_engine_launcher(*this)) {}

void engine::impl::write(std::vector<transition> batch, write_done then) {
    if (batch.empty()) {
        then(true, {});
        return;
    }
    std::vector<new_event> events;
    for (const transition& t : batch) {
        if (const new_event* e = std::get_if<new_event>(&t)) {
            events.push_back(*e);
        }
    }
    ++writes_in_flight_;
    deps_.submit(std::move(batch), [self = shared_from_this(), events = std::move(events),
                                    then = std::move(then)](
                                       core::result<std::vector<transition_outcome>> r) mutable {
        // Completions run on the writer thread: hop back to the loop before touching state.
        boost::asio::post(self->loop_, [self, r = std::move(r), events = std::move(events),
                                        then = std::move(then)]() mutable {
            --self->writes_in_flight_;
            if (self->stopped_) {
                return;
            }
            if (!r) {
                self->log_->error("store write failed: {}", r.error().message);
                then(false, {});
            } else {
                for (const new_event& e : events) {
                    self->notify(e);
                }
                then(true, *r);
            }
            self->maybe_finish_shutdown();
        });
    });
}

new_event engine::impl::make_event(std::string kind, const live_run* run, const live_task* task,
                                   std::string payload_json, std::string actor) const {
    new_event e;
    e.at = now();
    e.kind = std::move(kind);
    if (run != nullptr) {
        e.job = run->definition->spec->name;
        e.run = run->id;
    }
    if (task != nullptr) {
        e.task = task->spec->name;
    }
    e.payload_json = std::move(payload_json);
    e.actor = std::move(actor);
    return e;
}

void engine::impl::notify(const new_event& e) {
    if (!observer_) {
        return;
    }
    try {
        observer_(e);
    } catch (const std::exception& ex) {
        log_->error("event observer threw on {}: {}", e.kind, ex.what());
    }
}

std::chrono::steady_clock::duration engine::impl::until(core::time_point at) const {
    auto d = at - now();
    return d < decltype(d)::zero()
               ? std::chrono::steady_clock::duration::zero()
               : std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

live_run* engine::impl::find_run(core::run_id id) {
    auto it = runs_.find(id);
    return it == runs_.end() ? nullptr : it->second.get();
}

void engine::impl::stall(live_run& run, const std::string& why) {
    // The store refused or lost a write: our picture of this run is no longer trustworthy.
    // Stop driving it; the next start reconciles it from what the store holds.
    log_->error("job={} run={}: {}; the run is left to the next start's reconciliation",
                run.definition->spec->name, run.id.value, why);
    for (live_task& t : run.tasks) {
        if (t.stop) {
            t.stop->request(attempt_stop_reason::canceled);
        }
        if (t.timer) {
            t.timer->cancel();
        }
        queue_.remove(t.id);
    }
    if (run.deadline) {
        run.deadline->cancel();
    }
    run.job->active.erase(run.id);
    std::erase(run.job->waiting, run.id);
    on_backfill_run_ended(run);
    job_entry& job = *run.job;
    const core::run_id id = run.id;
    runs_.erase(id);
    if (auto waiters = waiters_.extract(id)) {
        for (auto& w : waiters.mapped()) {
            w(core::error::transient("run " + id.to_string() +
                                     " stalled on a store error; it continues at the next start"));
        }
    }
    admit_runs(job);
}

void engine::impl::start_heartbeat() {
    heartbeat_timer_.expires_after(options_.heartbeat_interval);
    heartbeat_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && !self->stopped_) {
            self->on_heartbeat();
        }
    });
}

void engine::impl::on_heartbeat() {
    std::vector<transition> renewals;
    const core::time_point expires = now() + options_.lease_duration;
    for (auto& [id, run] : runs_) {
        for (live_task& t : run->tasks) {
            if (t.running && t.state == task_state::running) {
                renewals.push_back(lease_renew{t.id, t.epoch, options_.instance_id, expires});
            }
        }
    }
    if (!renewals.empty()) {
        ++writes_in_flight_;
        deps_.submit(std::move(renewals), [self = shared_from_this()](auto r) {
            boost::asio::post(self->loop_, [self, r = std::move(r)] {
                --self->writes_in_flight_;
                if (!r) {
                    self->log_->error("lease renewal failed: {}", r.error().message);
                } else {
                    auto conflicts = std::count(r->begin(), r->end(), transition_outcome::conflict);
                    if (conflicts > 0) {
                        self->log_->error(
                            "{} lease renewal(s) conflicted: another instance took over those "
                            "attempts; their results will not be recorded",
                            conflicts);
                    }
                }
                self->maybe_finish_shutdown();
            });
        });
    }
    if (options_.keep_instance_row) {
        on_store(
            [self = shared_from_this()] {
                return self->deps_.store.heartbeat_instance(self->options_.instance_id,
                                                            self->now());
            },
            [self = shared_from_this()](core::result<bool> r) {
                if (!r) {
                    self->log_->warn("instance heartbeat failed: {}", r.error().message);
                }
            });
    }
    // Attempts still running during the shutdown grace keep their leases too.
    if (!stopped_) {
        start_heartbeat();
    }
}

}  // namespace sluice::scheduler
