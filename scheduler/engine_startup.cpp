// Startup: register jobs in the store, reconcile the runs left unfinished
// (docs/architecture.md#recovery-at-startup), fire catch-up ticks, arm the timers.

#include <cstdio>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/time.hpp"
#include "scheduler/engine_impl.hpp"
#include "scheduler/retry_decision.hpp"

namespace sluice::scheduler {

namespace {

// What the job row's definition_hash holds: a fingerprint of what decides the job's ticks
// (schedule and timezone), then '@' and when the schedule took that form. Keeping the instant in
// the hash column lets a restart tell "changed while we were down" from "changed long ago"
// without a schema change.
std::string schedule_fingerprint(const config::job_spec& job) {
    std::string text = job.schedule.value_or("") + "\n" + job.timezone;
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return std::string("fnv1a:") + hex;
}

struct stored_definition {
    std::string fingerprint;
    std::optional<core::sys_seconds> since;
};

stored_definition parse_definition(const std::string& hash) {
    std::size_t at = hash.find('@');
    if (at == std::string::npos) {
        return {hash, std::nullopt};
    }
    auto since = core::parse_rfc3339(hash.substr(at + 1));
    return {hash.substr(0, at), since ? std::optional(*since) : std::nullopt};
}

}  // namespace

core::result<std::vector<registered_job>> register_jobs(
    run_store& store, std::span<const config::job_spec* const> jobs, core::time_point now) {
    // One read of every stored job and one batched upsert: no round trip per job.
    auto existing = store.list_jobs();
    if (!existing) {
        return existing.error();
    }
    std::unordered_map<std::string_view, const job_record*> stored;
    for (const job_record& j : *existing) {
        stored.emplace(j.name, &j);
    }
    std::vector<job_upsert> upserts;
    std::vector<core::sys_seconds> since;
    upserts.reserve(jobs.size());
    since.reserve(jobs.size());
    for (const config::job_spec* job : jobs) {
        const std::string fingerprint = schedule_fingerprint(*job);
        std::string hash = fingerprint + "@" + core::format_rfc3339_utc(floor_seconds(now));
        core::sys_seconds defined = floor_seconds(now);
        if (auto it = stored.find(job->name); it != stored.end()) {
            stored_definition s = parse_definition(it->second->definition_hash);
            if (s.fingerprint == fingerprint && s.since) {
                hash = it->second->definition_hash;
                defined = *s.since;
            }
        }
        upserts.push_back(job_upsert{job->name, std::move(hash), job->paused});
        since.push_back(defined);
    }
    auto records = store.upsert_jobs(upserts);
    if (!records) {
        return records.error();
    }
    std::vector<registered_job> out;
    out.reserve(jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        out.push_back(registered_job{std::move((*records)[i]), since[i]});
    }
    return out;
}

struct engine::impl::loaded_state {
    struct job_row {
        job_record record;
        core::sys_seconds defined_since;
    };
    std::map<std::string, job_row> jobs;
    std::vector<std::pair<run_record, std::vector<task_instance_record>>> unfinished;
    std::vector<backfill_record> backfills;            // running or paused
    std::map<std::string, std::string> instance_info;  // instance id -> info
};

void engine::impl::start(std::function<void(core::result<void>)> done) {
    if (started_) {
        done(core::error::permanent("the scheduler engine was already started"));
        return;
    }
    started_ = true;
    on_store(
        [self = shared_from_this()]() -> core::result<std::shared_ptr<loaded_state>> {
            auto loaded = std::make_shared<loaded_state>();
            run_store& store = self->deps_.store;
            const core::time_point t = self->now();
            std::vector<const config::job_spec*> specs;
            specs.reserve(self->deps_.config.jobs.size());
            for (const config::job_spec& job : self->deps_.config.jobs) {
                specs.push_back(&job);
            }
            auto rows = register_jobs(store, specs, t);
            if (!rows) {
                return rows.error();
            }
            for (std::size_t i = 0; i < specs.size(); ++i) {
                loaded->jobs[specs[i]->name] = {(*rows)[i].record, (*rows)[i].defined_since};
            }
            if (self->options_.keep_instance_row) {
                auto registered = store.register_instance(instance_record{
                    self->options_.instance_id, self->options_.instance_info_json, t, t});
                if (!registered) {
                    return registered.error();
                }
            }
            if (!self->options_.reconcile_unfinished) {
                return loaded;
            }
            auto instances = store.list_instances();
            if (!instances) {
                return instances.error();
            }
            for (instance_record& i : *instances) {
                loaded->instance_info[i.id] = std::move(i.info_json);
            }
            auto backfills = store.list_unfinished_backfills();
            if (!backfills) {
                return backfills.error();
            }
            loaded->backfills = std::move(*backfills);
            auto runs = store.list_unfinished_runs();
            if (!runs) {
                return runs.error();
            }
            // One query for the tasks of every unfinished run (a backlog may hold thousands).
            auto tasks = store.list_tasks_of_unfinished_runs();
            if (!tasks) {
                return tasks.error();
            }
            std::unordered_map<std::int64_t, std::vector<task_instance_record>> by_run;
            for (task_instance_record& ti : *tasks) {
                by_run[ti.run.value].push_back(std::move(ti));
            }
            for (run_record& run : *runs) {
                auto found = by_run.find(run.id.value);
                loaded->unfinished.emplace_back(
                    std::move(run), found == by_run.end() ? std::vector<task_instance_record>{}
                                                          : std::move(found->second));
            }
            return loaded;
        },
        [self = shared_from_this(),
         done = std::move(done)](core::result<std::shared_ptr<loaded_state>> loaded) mutable {
            if (!loaded) {
                done(loaded.error());
                return;
            }
            done(self->adopt(**loaded));
        });
}

core::result<std::shared_ptr<const job_definition>> engine::impl::define_job(
    std::shared_ptr<const config::sluice_config> owner, const config::sluice_config& config,
    const config::job_spec& spec) {
    auto graph = run_graph::from_job(spec);
    if (!graph) {
        return graph.error();
    }
    auto zone = core::find_time_zone(spec.timezone);
    if (!zone) {
        return core::error::permanent("job " + spec.name + ": " + zone.error().message);
    }
    if (spec.schedule) {
        auto cron = cron_expression::parse(*spec.schedule);
        if (!cron) {
            return core::error::permanent("job " + spec.name + ": schedule \"" + *spec.schedule +
                                          "\": " + cron.error().message);
        }
    }
    auto definition = std::make_shared<job_definition>();
    definition->owner = std::move(owner);
    definition->config = &config;
    definition->spec = &spec;
    definition->graph = std::move(*graph);
    return std::shared_ptr<const job_definition>(std::move(definition));
}

void engine::impl::set_definition(job_entry& job,
                                  std::shared_ptr<const job_definition> definition) {
    const config::job_spec& spec = *definition->spec;
    job.spec = &spec;
    job.graph = definition->graph;
    // Both were checked by define_job.
    job.zone = *core::find_time_zone(spec.timezone);
    job.cron =
        spec.schedule ? std::optional(*cron_expression::parse(*spec.schedule)) : std::nullopt;
    job.definition = std::move(definition);
}

std::optional<core::sys_seconds> stored_since(const job_record& record,
                                              const config::job_spec& spec) {
    const stored_definition s = parse_definition(record.definition_hash);
    if (s.fingerprint != schedule_fingerprint(spec) || !s.since) {
        return std::nullopt;
    }
    core::sys_seconds since = *s.since;
    if (record.last_scheduled_tick) {
        since = std::max(since, floor_seconds(*record.last_scheduled_tick));
    }
    return since;
}

core::result<void> engine::impl::adopt(loaded_state& loaded) {
    for (const config::job_spec& spec : deps_.config.jobs) {
        auto definition = define_job(nullptr, deps_.config, spec);
        if (!definition) {
            return definition.error();
        }
        job_entry job;
        set_definition(job, std::move(*definition));
        const loaded_state::job_row& row = loaded.jobs.at(spec.name);
        job.paused = row.record.paused;
        job.since = row.defined_since;
        if (row.record.last_scheduled_tick) {
            job.since = std::max(job.since, floor_seconds(*row.record.last_scheduled_tick));
        }
        jobs_.emplace(spec.name, std::move(job));
    }
    instance_info_ = std::move(loaded.instance_info);
    // Backfills first: reconciling their runs counts them against the backfill's limit.
    if (options_.run_backfills) {
        for (const backfill_record& b : loaded.backfills) {
            adopt_backfill(b);
        }
    }
    for (auto& [run, tasks] : loaded.unfinished) {
        reconcile(run, tasks);
    }
    {
        creation_batch hold(*this);  // the catch-up runs of every job: one batch
        for (auto& [name, job] : jobs_) {
            if (job.cron && !job.paused) {
                plan_job_ticks(job, /*resuming=*/true);
            }
            admit_runs(job);
        }
    }
    for (auto& [id, bf] : backfills_) {
        pump_backfill(bf);
    }
    arm_schedule_timer();
    start_heartbeat();
    adopted_ = true;
    take_over_ = false;  // what a take-over would read, the start just did
    const auto s = [](std::size_t n) { return n == 1 ? "" : "s"; };
    log_->info(
        "scheduler started: {} job{}, {} unfinished run{} reconciled, {} backfill{} continued, "
        "instance={}",
        jobs_.size(), s(jobs_.size()), loaded.unfinished.size(), s(loaded.unfinished.size()),
        backfills_.size(), s(backfills_.size()), options_.instance_id);
    return {};
}

void engine::impl::reconcile(const run_record& record,
                             const std::vector<task_instance_record>& tasks) {
    const core::time_point t = now();
    auto job_it = jobs_.find(record.job);
    bool orphan = job_it == jobs_.end();
    std::vector<std::optional<std::size_t>> nodes;
    for (const task_instance_record& ti : tasks) {
        nodes.push_back(orphan ? std::nullopt : job_it->second.graph.find(ti.task));
        orphan = orphan || !nodes.back();
    }
    if (!orphan && tasks.size() != job_it->second.graph.nodes().size()) {
        orphan = true;
    }
    // An attempt leased by another process is that process's to finish, unless the lease
    // expired or its owner provably exited; the leases of exited owners are released in the
    // batch below so that the retry can lease the task.
    std::vector<transition> releases;
    std::optional<core::time_point> live_until;
    for (const task_instance_record& ti : tasks) {
        if (ti.state != task_state::running || !ti.lease_owner ||
            *ti.lease_owner == options_.instance_id || !ti.lease_expires_at ||
            *ti.lease_expires_at <= t) {
            continue;
        }
        if (lease_owner_gone(*ti.lease_owner)) {
            releases.push_back(lease_release{ti.id, ti.lease_epoch, *ti.lease_owner});
            continue;
        }
        log_->warn(
            "job={} run={} task={}: try {} is running in another live process ({}); leaving the "
            "run to it, and looking again when its lease expires",
            record.job, record.id.value, ti.task, ti.try_number, *ti.lease_owner);
        live_until = std::max(live_until.value_or(*ti.lease_expires_at), *ti.lease_expires_at);
    }
    if (live_until) {
        defer_reconcile(record.id, *live_until);
        return;
    }
    if (orphan) {
        // The job or its tasks are no longer configured as they were: the run cannot continue.
        log_->error(
            "job={} run={}: the job's definition no longer matches this run's tasks; failing the "
            "run",
            record.job, record.id.value);
        std::vector<transition> batch;
        for (const task_instance_record& ti : tasks) {
            if (!is_terminal(ti.state)) {
                task_transition tt =
                    task_move(ti.id, ti.state, ti.lease_epoch, task_state::canceled, t);
                tt.error_message = "the job definition changed while this run was unfinished";
                batch.push_back(tt);
            }
        }
        batch.push_back(run_transition{record.id, record.state, run_state::failed, t});
        batch.insert(batch.end(), releases.begin(), releases.end());
        new_event e;
        e.at = t;
        e.kind = "run.state";
        e.job = record.job;
        e.run = record.id;
        e.payload_json = R"({"from":")" + std::string(to_string(record.state)) +
                         R"(","to":"failed","reason":"job definition changed"})";
        e.actor = "scheduler";
        batch.push_back(e);
        write(std::move(batch), [](bool, const std::vector<transition_outcome>&) {});
        return;
    }

    job_entry& job = job_it->second;
    auto run = std::make_unique<live_run>();
    run->id = record.id;
    run->job = &job;
    run->definition = job.definition;
    run->trigger = record.trigger;
    run->backfill = record.backfill;
    auto params = params_from_json(record.params_json);
    run->params = params ? *params : param_values{};
    auto secs = [](const std::optional<core::time_point>& p) -> std::optional<core::sys_seconds> {
        return p ? std::optional(floor_seconds(*p)) : std::nullopt;
    };
    run->logical_time = secs(record.logical_time);
    run->data_interval_start = secs(record.data_interval_start);
    run->data_interval_end = secs(record.data_interval_end);
    run->state = record.state;
    run->started_at = record.started_at;
    run->tasks.resize(job.graph.nodes().size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        const task_instance_record& ti = tasks[i];
        live_task& lt = run->tasks[*nodes[i]];
        lt.node = *nodes[i];
        lt.spec = &job.spec->tasks[*nodes[i]];
        lt.id = ti.id;
        lt.state = ti.state;
        lt.try_number = ti.try_number;
        lt.max_tries = ti.max_tries;
        lt.interruptions = ti.interruptions;
        lt.epoch = ti.lease_epoch;
        lt.next_attempt_at = ti.next_attempt_at;
        lt.outputs_bytes = stored_outputs_bytes(ti);
    }
    live_run& r = *run;
    runs_.emplace(record.id, std::move(run));
    if (r.backfill) {
        // Started by its backfill, outside the job's max_active_runs (engine_backfills.cpp).
        if (auto bf = backfills_.find(*r.backfill); bf != backfills_.end()) {
            bf->second.active.insert(r.id);
        }
        if (r.state == run_state::queued) {
            start_run(r);
            return;
        }
    } else if (r.state == run_state::queued) {
        job.waiting.push_back(r.id);
        return;
    } else {
        job.active.insert(r.id);
    }
    if (job.spec->timeout && r.started_at) {
        r.deadline = std::make_unique<boost::asio::steady_timer>(loop_);
        r.deadline->expires_after(until(*r.started_at + *job.spec->timeout));
        r.deadline->async_wait(
            [self = shared_from_this(), id = r.id](boost::system::error_code ec) {
                live_run* run = self->find_run(id);
                if (!ec && run != nullptr) {
                    self->end_run(*run, run_ending::timeout, "scheduler");
                }
            });
    }
    // Attempts that were running when the previous process died: finished tasks stay finished;
    // an interrupted attempt is tried again at once without using a try, up to the task's
    // max_interruptions (docs/configuration.md#interruptions).
    std::vector<transition> batch;
    for (live_task& lt : r.tasks) {
        switch (lt.state) {
            case task_state::running: {
                attempt_decision d = decide_after_attempt(
                    lt.spec->retry, lt.spec->retry_on_timeout, lt.try_number, lt.max_tries,
                    attempt_end::interrupted, 0.5, interruption_standing_of(lt));
                task_transition tt = task_move(lt.id, lt.state, lt.epoch, d.next, t);
                tt.error_cls = core::error_class::transient;
                tt.error_message = "interrupted: the daemon stopped while try " +
                                   std::to_string(lt.try_number) + " was running" +
                                   (d.why.empty() ? "" : "; " + d.why);
                tt.interrupted = d.interrupted;
                lt.interruptions += d.interrupted ? 1 : 0;
                if (d.next == task_state::up_for_retry) {
                    tt.next_attempt_at = t;
                    lt.next_attempt_at = t;
                }
                // The lease stays: the next lease_acquire takes it over (ours or expired).
                batch.push_back(tt);
                if (d.next == task_state::up_for_retry) {
                    batch.push_back(attempt_archive{lt.id, lt.try_number, d.next, t});
                }
                batch.push_back(make_event(
                    "task.state", &r, &lt,
                    R"({"from":"running","to":")" + std::string(to_string(d.next)) + R"(","try":)" +
                        std::to_string(lt.try_number) + R"(,"reason":"interrupted"})"));
                log_->warn("job={} run={} task={}: try {} was interrupted; now {}", job.spec->name,
                           r.id.value, lt.spec->name, lt.try_number, to_string(d.next));
                lt.state = d.next;
                lt.busy = true;
                break;
            }
            case task_state::queued:
                queue_.push(dispatch_item{lt.id, r.id, job.spec->name, lt.spec->pool,
                                          job.spec->max_active_tasks,
                                          r.trigger == trigger_kind::backfill});
                break;
            default:
                break;
        }
    }
    batch.insert(batch.end(), releases.begin(), releases.end());
    write(std::move(batch), [self = shared_from_this(), id = r.id](
                                bool ok, const std::vector<transition_outcome>& outcomes) {
        live_run* run = self->find_run(id);
        if (run == nullptr) {
            return;
        }
        if (!ok || std::count(outcomes.begin(), outcomes.end(), transition_outcome::conflict) > 0) {
            self->stall(*run, "reconciling interrupted attempts failed");
            return;
        }
        for (live_task& lt : run->tasks) {
            lt.busy = false;
            if (lt.state == task_state::up_for_retry) {
                self->schedule_retry(*run, lt);
            }
        }
        self->plan(*run);
        self->dispatch();
    });
}

bool engine::impl::lease_owner_gone(const std::string& owner) const {
    if (!options_.lease_owner_gone) {
        return false;
    }
    const auto it = instance_info_.find(owner);
    return options_.lease_owner_gone(owner, it == instance_info_.end() ? "" : it->second);
}

void engine::impl::defer_reconcile(core::run_id id, core::time_point lease_expires_at) {
    auto& timer = deferred_[id];
    if (!timer) {
        timer = std::make_unique<boost::asio::steady_timer>(loop_);
    }
    // A little past the expiry: the owner's clock wrote it, and a live owner renews well before.
    timer->expires_after(until(lease_expires_at) + std::chrono::seconds(1));
    timer->async_wait([self = shared_from_this(), id](boost::system::error_code ec) {
        if (!ec && !self->shutting_down_ && !self->stopped_) {
            self->reconcile_again(id);
        }
    });
}

void engine::impl::reconcile_again(core::run_id id) {
    struct reread {
        std::optional<run_record> run;
        std::vector<task_instance_record> tasks;
        std::vector<instance_record> instances;
    };
    on_store(
        [self = shared_from_this(), id]() -> core::result<reread> {
            reread r;
            auto run = self->deps_.store.get_run(id);
            if (!run) {
                return run.error();
            }
            r.run = std::move(*run);
            if (!r.run || is_terminal(r.run->state)) {
                return r;
            }
            auto tasks = self->deps_.store.list_task_instances(id);
            if (!tasks) {
                return tasks.error();
            }
            r.tasks = std::move(*tasks);
            auto instances = self->deps_.store.list_instances();
            if (!instances) {
                return instances.error();
            }
            r.instances = std::move(*instances);
            return r;
        },
        [self = shared_from_this(), id](core::result<reread> r) {
            if (self->shutting_down_ || self->stopped_) {
                return;
            }
            if (!r) {
                self->log_->warn("run={}: cannot look at it again yet: {}", id.value,
                                 r.error().message);
                self->defer_reconcile(id, self->now() + self->options_.heartbeat_interval);
                return;
            }
            self->deferred_.erase(id);
            if (!r->run || is_terminal(r->run->state) || self->runs_.contains(id)) {
                return;  // its owner finished it
            }
            for (instance_record& i : r->instances) {
                self->instance_info_[i.id] = std::move(i.info_json);
            }
            self->reconcile(*r->run, r->tasks);
            if (auto job = self->jobs_.find(r->run->job); job != self->jobs_.end()) {
                self->admit_runs(job->second);
            }
            self->dispatch();
        });
}

}  // namespace sluice::scheduler
