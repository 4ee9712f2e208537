// Reload (SIGHUP, docs/operations.md#reload): apply a new configuration's added, changed and
// removed jobs without disturbing runs. A run keeps the job_definition it was created with (its
// spec, graph and the configuration its connections come from), so only runs created afterwards see
// a change; limits (max_active_runs, the waiting list) stay on the job's entry across versions.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

namespace {

// Equal definitions, ignoring where in the files they are written (moving a job is no change).
bool same_definition(const config::job_spec& a, const config::job_spec& b) {
    config::job_spec x = a;
    config::job_spec y = b;
    x.defined_at = {};
    y.defined_at = {};
    for (auto* job : {&x, &y}) {
        for (config::task_spec& task : job->tasks) {
            task.defined_at = {};
        }
    }
    return x == y;
}

bool same_schedule(const config::job_spec& a, const config::job_spec& b) {
    return a.schedule == b.schedule && a.timezone == b.timezone;
}

// The connections a job's tasks name: a job whose connection changed counts as changed, since
// its next runs reach another server.
bool same_connections(const config::job_spec& job, const config::sluice_config& a,
                      const config::sluice_config& b) {
    auto lookup = [](const config::sluice_config& c,
                     const std::string& name) -> const config::connection_spec* {
        auto it = c.connections.find(name);
        return it == c.connections.end() ? nullptr : &it->second;
    };
    auto same = [&](const std::string& name) {
        const auto* x = lookup(a, name);
        const auto* y = lookup(b, name);
        return x == nullptr || y == nullptr ? x == y : *x == *y;
    };
    for (const config::task_spec& task : job.tasks) {
        if (const auto* sql = std::get_if<config::sql_spec>(&task.kind);
            sql != nullptr && !same(sql->connection)) {
            return false;
        }
        if (const auto* copy = std::get_if<config::copy_spec>(&task.kind);
            copy != nullptr && (!same(copy->source.connection) || !same(copy->sink.connection))) {
            return false;
        }
    }
    return true;
}

// {"added":[..],"changed":[..],"removed":[..],"restart_needed":[..]}
std::string reload_payload(const reload_summary& s) {
    auto array = [](const std::vector<std::string>& names) {
        std::string out = "[";
        for (const std::string& n : names) {
            out += out.size() > 1 ? ",\"" : "\"";
            for (char c : n) {  // job names are plain, but never emit broken JSON
                if (c == '"' || c == '\\') {
                    out += '\\';
                }
                out += c;
            }
            out += '"';
        }
        return out + "]";
    };
    return "{\"added\":" + array(s.added) + ",\"changed\":" + array(s.changed) +
           ",\"removed\":" + array(s.removed) + ",\"restart_needed\":" + array(s.restart_needed) +
           "}";
}

struct job_plan {
    enum class kind { added, changed, unchanged } what = kind::unchanged;
    std::shared_ptr<const job_definition> definition;
    bool schedule_changed = false;
};

}  // namespace

void engine::async_reconfigure(std::shared_ptr<const config::sluice_config> next,
                               std::function<void(core::result<reload_summary>)> done) {
    impl_->on_loop([i = impl_.get(), next = std::move(next), done = std::move(done)]() mutable {
        i->reconfigure(std::move(next), std::move(done));
    });
}

void engine::impl::reconfigure(std::shared_ptr<const config::sluice_config> next,
                               std::function<void(core::result<reload_summary>)> done) {
    if (!started_ || shutting_down_) {
        done(core::error::transient(shutting_down_ ? "the scheduler is shutting down"
                                                   : "the scheduler has not started"));
        return;
    }
    const config::sluice_config& before = current_config();
    // Every definition first: one invalid job changes nothing.
    auto plans = std::make_shared<std::map<std::string, job_plan>>();
    for (const config::job_spec& spec : next->jobs) {
        auto definition = define_job(next, *next, spec);
        if (!definition) {
            done(definition.error());
            return;
        }
        job_plan plan;
        plan.definition = std::move(*definition);
        auto it = jobs_.find(spec.name);
        if (it == jobs_.end() || it->second.removed) {
            plan.what = job_plan::kind::added;
        } else {
            const config::job_spec& old = *it->second.spec;
            plan.schedule_changed = !same_schedule(old, spec);
            plan.what = same_definition(old, spec) && same_connections(spec, before, *next)
                            ? job_plan::kind::unchanged
                            : job_plan::kind::changed;
        }
        plans->emplace(spec.name, std::move(plan));
    }

    reload_summary summary;
    for (const auto& [name, plan] : *plans) {
        if (plan.what == job_plan::kind::added) {
            summary.added.push_back(name);
        } else if (plan.what == job_plan::kind::changed) {
            summary.changed.push_back(name);
        }
    }
    for (const auto& [name, job] : jobs_) {
        if (!job.removed && !plans->contains(name)) {
            summary.removed.push_back(name);
        }
    }
    if (next->workers != before.workers) {
        summary.restart_needed.push_back("workers");
    }
    if (next->pools != before.pools) {
        summary.restart_needed.push_back("pools");
    }
    if (next->shutdown_grace != before.shutdown_grace) {
        summary.restart_needed.push_back("shutdown_grace");
    }

    // Register added jobs and changed schedules in the store (their ticks count from now), then
    // apply everything on the loop at once.
    std::vector<const config::job_spec*> to_register;
    for (const auto& [name, plan] : *plans) {
        if (plan.what == job_plan::kind::added || plan.schedule_changed) {
            to_register.push_back(plan.definition->spec);
        }
    }
    on_store(
        [self = shared_from_this(), to_register,
         next]() -> core::result<std::map<std::string, registered_job>> {
            auto registered = register_jobs(self->deps_.store, to_register, self->now());
            if (!registered) {
                return registered.error();
            }
            std::map<std::string, registered_job> rows;
            for (std::size_t i = 0; i < to_register.size(); ++i) {
                rows.emplace(to_register[i]->name, std::move((*registered)[i]));
            }
            return rows;
        },
        [self = shared_from_this(), plans, next, summary = std::move(summary),
         done = std::move(done)](core::result<std::map<std::string, registered_job>> rows) mutable {
            if (!rows) {
                done(core::error{
                    rows.error().cls,
                    "could not register the reloaded jobs in the store: " + rows.error().message});
                return;
            }
            if (self->shutting_down_) {
                done(core::error::transient("the scheduler is shutting down"));
                return;
            }
            const core::sys_seconds t = std::chrono::floor<std::chrono::seconds>(self->now());
            for (const std::string& name : summary.removed) {
                job_entry& job = self->jobs_.at(name);
                job.removed = true;
                if (job.next_fire) {
                    self->timer_heap_.erase({*job.next_fire, name});
                    job.next_fire.reset();
                }
                // The entry stays (flagged): runs, backfills and waiters may point at it.
            }
            for (auto& [name, plan] : *plans) {
                auto [it, inserted] = self->jobs_.try_emplace(name);
                job_entry& job = it->second;
                if (plan.what == job_plan::kind::added) {
                    const registered_job& row = rows->at(name);
                    job.removed = false;
                    job.paused = row.record.paused;
                    // No tick before the reload is due, whatever `catchup` says: the job did
                    // not exist here until now.
                    job.since = std::max(row.defined_since, t);
                } else if (plan.schedule_changed) {
                    job.since = std::max(rows->at(name).defined_since, t);
                }
                set_definition(job, plan.definition);
                if (plan.what == job_plan::kind::added || plan.schedule_changed) {
                    self->plan_job_ticks(job, /*resuming=*/true);
                }
                self->admit_runs(job);  // max_active_runs may have grown
            }
            self->current_config_ = next;
            self->arm_schedule_timer();

            auto list = [](const std::vector<std::string>& names) {
                std::string out;
                for (const std::string& n : names) {
                    out += (out.empty() ? "" : ", ") + n;
                }
                return out.empty() ? std::string("none") : out;
            };
            self->log_->info("reload: jobs added: {}; changed: {}; removed: {}",
                             list(summary.added), list(summary.changed), list(summary.removed));
            self->write({self->make_event("config.reloaded", nullptr, nullptr,
                                          reload_payload(summary), "sighup")},
                        [](bool, const std::vector<transition_outcome>&) {});
            done(std::move(summary));
        });
}

}  // namespace sluice::scheduler
