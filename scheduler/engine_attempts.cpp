// The attempt side of the engine: taking the lease, running the attempt on the task pool with
// its timeout and output sink, recording how it ended, retry waits.

#include <algorithm>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "config/task_outputs.hpp"
#include "core/duration.hpp"
#include "core/logging.hpp"
#include "scheduler/attempt_sink.hpp"
#include "scheduler/engine_impl.hpp"
#include "scheduler/retry_decision.hpp"
#include "scheduler/task_runner.hpp"

namespace sluice::scheduler {

namespace {

// The stored outputs of the run's tasks named in `upstream`, by task then name.
void load_upstream_outputs(const std::vector<task_instance_record>& tasks,
                           const std::set<std::string>& upstream,
                           std::map<std::string, std::map<std::string, std::string>>& out) {
    for (const task_instance_record& ti : tasks) {
        if (ti.outputs_json == "{}" || upstream.count(ti.task) == 0) {
            continue;
        }
        const nlohmann::json outputs = nlohmann::json::parse(ti.outputs_json, nullptr, false);
        if (!outputs.is_object()) {
            continue;
        }
        for (const auto& [name, value] : outputs.items()) {
            if (value.is_string()) {
                out[ti.task][name] = value.get<std::string>();
            }
        }
    }
}

}  // namespace

int engine::impl::append_start(live_run& run, live_task& task, std::vector<transition>& batch) {
    const core::time_point t = now();
    const int try_number = task.try_number + 1;
    task.busy = true;
    task.running = true;
    ++attempts_running_;
    task_transition running_transition =
        task_move(task.id, task_state::queued, task.epoch + 1, task_state::running, t);
    running_transition.try_number = try_number;
    batch.push_back(
        lease_acquire{task.id, task.epoch, options_.instance_id, t + options_.lease_duration, t});
    batch.push_back(running_transition);
    batch.push_back(
        make_event("task.state", &run, &task, state_payload("queued", "running", try_number)));
    return try_number;
}

void engine::impl::start_attempt(live_run& run, live_task& task) {
    std::vector<transition> batch;
    const int try_number = append_start(run, task, batch);
    write(std::move(batch), [self = shared_from_this(), id = run.id, node = task.node, try_number](
                                bool ok, const std::vector<transition_outcome>& o) {
        self->on_start_written(id, node, try_number, ok && all_applied(o));
    });
}

void engine::impl::on_start_written(core::run_id id, std::size_t node, int try_number, bool ok) {
    live_run* run = find_run(id);
    if (run == nullptr) {
        --attempts_running_;
        return;
    }
    live_task& task = run->tasks[node];
    if (!ok) {
        --attempts_running_;
        task.running = false;
        queue_.release(task.id);
        stall(*run, "could not take the lease of task " + task.spec->name);
        return;
    }
    task.epoch += 1;
    task.try_number = try_number;
    task.state = task_state::running;
    begin_attempt(*run, task);
}

void engine::impl::begin_attempt(live_run& run, live_task& task) {
    if (run.ending != run_ending::none || shutting_down_) {
        // Canceled, timed out or shutting down while the lease was being taken: record the
        // attempt as ended without running it.
        attempt_result r;
        r.end = shutting_down_ && run.ending == run_ending::none ? attempt_end::shutdown
                                                                 : attempt_end::canceled;
        r.message = "stopped before it started";
        on_attempt_done(run.id, task.node, std::move(r), "");
        return;
    }
    execute_attempt(run, task);
}

void engine::impl::execute_attempt(live_run& run, live_task& task) {
    log_->debug("job={} run={} task={}: try {}/{} started", run.definition->spec->name,
                run.id.value, task.spec->name, task.try_number, task.max_tries);
    auto runner = deps_.resolve_runner(*task.spec);
    if (!runner || !*runner) {
        attempt_result r;
        r.end = runner && runner.error().cls == core::error_class::transient
                    ? attempt_end::failed_transient
                    : attempt_end::failed_permanent;
        r.message =
            runner ? "no runner for task type " + std::string(config::to_string(task.spec->type))
                   : runner.error().message;
        on_attempt_done(run.id, task.node, std::move(r), "");
        return;
    }
    task.stop = std::make_shared<attempt_stop>();
    auto request = std::make_shared<attempt_request>();
    request->keep_alive = run.definition;
    request->config = run.definition->config;
    request->job = run.definition->spec;
    request->task = task.spec;
    request->run = run.id;
    request->task_instance = task.id;
    request->try_number = task.try_number;
    request->logical_time = run.logical_time;
    request->data_interval_start = run.data_interval_start;
    request->data_interval_end = run.data_interval_end;
    request->params = run.params;
    request->clock = &deps_.clock;
    request->launcher = launcher_.get();
    // The task's ancestors (config::upstream_tasks, through the run's graph): whose outputs it
    // receives. Only for kinds that read task values: noop chains stay free of it.
    std::set<std::string> upstream;
    if ((*runner)->uses_variables()) {
        const auto& nodes = run.definition->graph.nodes();
        std::vector<std::size_t> pending = nodes[task.node].upstream;
        std::vector<bool> seen(nodes.size(), false);
        while (!pending.empty()) {
            const std::size_t n = pending.back();
            pending.pop_back();
            if (n == task.node || seen[n]) {
                continue;
            }
            seen[n] = true;
            upstream.insert(nodes[n].name);
            pending.insert(pending.end(), nodes[n].upstream.begin(), nodes[n].upstream.end());
        }
    }
    if (task.spec->timeout) {
        request->deadline = now() + *task.spec->timeout;
        task.timer = std::make_unique<boost::asio::steady_timer>(loop_);
        task.timer->expires_after(*task.spec->timeout);
        task.timer->async_wait([stop = task.stop](boost::system::error_code ec) {
            if (!ec) {
                stop->request(attempt_stop_reason::timed_out);
            }
        });
    }
    auto sink =
        std::make_shared<attempt_sink>(deps_.store, task.id, task.try_number,
                                       options_.log_flush_lines, options_.log_flush_interval);
    std::make_shared<stale_log_flusher>(loop_, store_pool_, sink)->arm();
    request->on_output = [sink](attempt_output out) { sink->add(std::move(out)); };
    // A metric the task reports is also a progress event for live observers (SSE); it is not
    // stored as an event (the attempt's final metrics are).
    new_event progress = make_event("task.progress", &run, &task, "{}");
    request->on_metric = [sink, self = shared_from_this(), progress, try_number = task.try_number](
                             std::string_view name, double value) {
        sink->metric(name, value);
        nlohmann::json payload{
            {"metric", std::string(name)}, {"value", value}, {"try", try_number}};
        new_event e = progress;
        e.payload_json = payload.dump();
        boost::asio::post(self->loop_, [self, e = std::move(e)]() mutable {
            if (!self->stopped_) {
                e.at = self->now();  // the clock is read on the loop, like every other event
                self->notify(e);
            }
        });
    };
    // Checkpoints of this (job, task): blocking store calls made on the worker thread, like
    // list_variables below.
    request->get_checkpoint = [self = shared_from_this(), job = run.definition->spec->name,
                               name = task.spec->name](std::string_view key) {
        return self->deps_.store.get_checkpoint(job, name, key);
    };
    request->put_checkpoint = [self = shared_from_this(), job = run.definition->spec->name,
                               name = task.spec->name](std::string_view key,
                                                       std::string_view value_json) {
        return self->deps_.store.put_checkpoint(job, name, key, value_json,
                                                self->deps_.clock.now());
    };
    // A copy's progress: kept as the attempt's metrics (the last report wins) and published as
    // a task.progress event, like a metric.
    request->on_progress = [sink, self = shared_from_this(), progress,
                            try_number = task.try_number](std::string progress_json) {
        sink->progress(progress_json);
        nlohmann::json payload = nlohmann::json::parse(progress_json, nullptr, false);
        if (!payload.is_object()) {
            return;
        }
        payload["try"] = try_number;
        new_event e = progress;
        e.payload_json = payload.dump();
        boost::asio::post(self->loop_, [self, e = std::move(e)]() mutable {
            if (!self->stopped_) {
                e.at = self->now();
                self->notify(e);
            }
        });
    };
    auto body = [self = shared_from_this(), request, sink, stop = task.stop, runner = *runner,
                 id = run.id, node = task.node, upstream = std::move(upstream)] {
        attempt_result r;
        bool ready = true;
        if (runner->uses_variables() && !upstream.empty()) {
            // Read again at every attempt: a retried task sees what its upstream tasks stored.
            auto tasks = self->deps_.store.list_task_instances(id);
            if (tasks) {
                load_upstream_outputs(*tasks, upstream, request->upstream_outputs);
            } else {
                ready = false;
                r.end = attempt_end::failed_transient;
                r.message = "cannot read the outputs of upstream tasks from the store: " +
                            tasks.error().message;
            }
        }
        if (ready && runner->uses_variables()) {
            auto variables = self->deps_.store.list_variables();
            if (variables) {
                for (const variable_record& v : *variables) {
                    request->variables[v.key] = v.value;
                    if (v.secret) {
                        request->secret_variables.insert(v.key);
                    }
                }
            } else {
                // Running without them would hand the task empty SLUICE_VAR_ values.
                ready = false;
                r.end = attempt_end::failed_transient;
                r.message = "cannot read variables from the store: " + variables.error().message;
            }
        }
        if (ready) {
            r = run_attempt(*runner, *request, *stop);
        }
        sink->flush();
        std::string metrics = sink->has_metrics() ? sink->metrics_json() : "";
        boost::asio::post(self->loop_, [self, id, node, r = std::move(r),
                                        metrics = std::move(metrics)]() mutable {
            if (!self->stopped_) {
                self->on_attempt_done(id, node, std::move(r), std::move(metrics));
            }
        });
    };
    // A kind that never blocks runs on the loop itself: no two thread hand-offs per attempt.
    if ((*runner)->never_blocks()) {
        boost::asio::post(loop_, std::move(body));
    } else {
        boost::asio::post(task_pool_, std::move(body));
    }
}

void engine::impl::on_attempt_done(core::run_id run_id, std::size_t node, attempt_result result,
                                   std::string metrics_json) {
    --attempts_running_;
    live_run* run = find_run(run_id);
    if (run == nullptr) {
        maybe_finish_shutdown();
        return;
    }
    live_task& task = run->tasks[node];
    queue_.release(task.id);
    task.running = false;
    task.stop.reset();
    if (task.timer) {
        task.timer->cancel();
    }
    if (result.end == attempt_end::success && !result.outputs_json.empty()) {
        std::size_t others = 0;
        for (const live_task& t : run->tasks) {
            others += t.node == node ? 0 : t.outputs_bytes;
        }
        if (others + result.outputs_json.size() > config::max_outputs_per_run_bytes) {
            result.end = attempt_end::failed_permanent;
            result.message = "the outputs of this run would take " +
                             std::to_string(others + result.outputs_json.size()) +
                             " bytes; a run holds at most " +
                             std::to_string(config::max_outputs_per_run_bytes) +
                             " bytes of outputs (publish paths or keys, not data)";
            result.outputs_json.clear();
        }
    }
    if (run->ending != run_ending::none && result.end != attempt_end::success) {
        result.end = attempt_end::canceled;
        if (result.message.empty()) {
            result.message =
                run->ending == run_ending::timeout ? "the run timed out" : "the run was canceled";
        }
    }
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    attempt_decision d =
        decide_after_attempt(task.spec->retry, task.spec->retry_on_timeout, task.try_number,
                             task.max_tries, result.end, u, interruption_standing_of(task));
    const core::time_point t = now();
    task_transition tt = task_move(task.id, task_state::running, task.epoch, d.next, t);
    if (result.end != attempt_end::success) {
        tt.error_cls = result.end == attempt_end::failed_permanent ? core::error_class::permanent
                                                                   : core::error_class::transient;
        std::string what = result.message;
        if (result.end == attempt_end::timed_out && task.spec->timeout) {
            what = "timed out after " + core::format_duration(*task.spec->timeout) +
                   (what.empty() ? "" : ": " + what);
        } else if (result.end == attempt_end::shutdown) {
            what = "interrupted by shutdown" + (what.empty() ? "" : ": " + what);
        }
        if (!d.why.empty()) {
            what += "; " + d.why;
        }
        tt.error_message = what;
    }
    tt.interrupted = d.interrupted;
    task.interruptions += d.interrupted ? 1 : 0;
    if (d.retry_after) {
        tt.next_attempt_at = t + *d.retry_after;
        task.next_attempt_at = tt.next_attempt_at;
    }
    if (!metrics_json.empty()) {
        tt.metrics_json = metrics_json;
    }
    if (d.next == task_state::success) {
        // A success replaces the task's outputs, with nothing when this try published none;
        // they commit in the same statement as the success.
        tt.outputs_json = result.outputs_json.empty() ? "{}" : result.outputs_json;
        task.outputs_bytes = result.outputs_json.size();
    }
    if (task.try_number > 1) {
        // An earlier try's error and metrics do not describe this one (the store keeps a field
        // the transition leaves out).
        if (!tt.error_message) {
            tt.error_message = "";
        }
        if (!tt.metrics_json) {
            tt.metrics_json = "{}";
        }
    }
    // Per-attempt lines stay below info on success: at thousands of tasks per second they would
    // drown what an operator needs (failures, retries, run outcomes).
    auto level = d.next == task_state::success ? spdlog::level::debug : spdlog::level::warn;
    log_->log(level, "job={} run={} task={}: try {}/{} ended {}{}{}", run->definition->spec->name,
              run->id.value, task.spec->name, task.try_number, task.max_tries, to_string(d.next),
              tt.error_message ? ": " : "", tt.error_message.value_or(""));
    nlohmann::json payload{
        {"from", "running"}, {"to", std::string(to_string(d.next))}, {"try", task.try_number}};
    if (tt.error_message) {
        payload["error"] = *tt.error_message;
    }
    std::vector<transition> batch{tt, lease_release{task.id, task.epoch, options_.instance_id},
                                  make_event("task.state", run, &task, payload.dump())};
    if (d.next == task_state::up_for_retry) {
        // The next try overwrites the task row's times and error: keep this one's in the history.
        batch.push_back(attempt_archive{task.id, task.try_number, d.next, t, options_.instance_id});
    }
    task.state = d.next;
    task.busy = true;
    // Downstream tasks this outcome releases commit in the same transaction: one commit fewer
    // per task on the critical path of a chain.
    // So do the starts of those a worker can take at once, and the run's own end when this
    // was its last task: a chain of noop tasks costs one commit per task.
    std::vector<std::size_t> planned = append_plan(*run, batch);
    auto started = append_eager_starts(*run, planned, batch);
    std::optional<run_state> finished;
    if (planned.empty() && started.empty() && run->ending == run_ending::none) {
        finished = final_state_if_done(*run, node);
        if (finished) {
            append_finish(*run, *finished, batch);
        }
    }
    write(std::move(batch), [self = shared_from_this(), run_id, node, planned, started, finished](
                                bool ok, const std::vector<transition_outcome>& o) {
        live_run* run = self->find_run(run_id);
        if (run == nullptr) {
            return;
        }
        live_task& task = run->tasks[node];
        task.busy = false;
        const bool written = ok && all_applied(o);
        if (!written) {
            self->on_planned_written(*run, planned, started, false);
            self->stall(*run, "could not record the end of task " + task.spec->name +
                                  " (its lease was taken over, or the store failed)");
            return;
        }
        if (finished) {
            self->on_finish_written(run_id, *finished, true);
            return;
        }
        self->on_planned_written(*run, planned, started, true);
        if (task.state == task_state::up_for_retry) {
            self->schedule_retry(*run, task);
        }
        self->plan(*run);
        self->dispatch();
    });
    dispatch();
}

void engine::impl::schedule_retry(live_run& run, live_task& task) {
    if (shutting_down_ || run.ending != run_ending::none) {
        if (run.ending != run_ending::none) {
            settle(run);
        }
        return;  // up_for_retry with next_attempt_at is in the store; the next start retries.
    }
    task.timer = std::make_unique<boost::asio::steady_timer>(loop_);
    task.timer->expires_after(until(task.next_attempt_at.value_or(now())));
    task.timer->async_wait(
        [self = shared_from_this(), id = run.id, node = task.node](boost::system::error_code ec) {
            if (!ec && !self->stopped_ && !self->shutting_down_) {
                self->requeue(id, node);
            }
        });
}

void engine::impl::requeue(core::run_id run_id, std::size_t node) {
    live_run* run = find_run(run_id);
    if (run == nullptr) {
        return;
    }
    live_task& task = run->tasks[node];
    if (task.state != task_state::up_for_retry || task.busy) {
        return;
    }
    if (run->ending != run_ending::none) {
        settle(*run);
        return;
    }
    task.state = task_state::queued;
    task.busy = true;
    write({task_move(task.id, task_state::up_for_retry, task.epoch, task_state::queued, now()),
           make_event("task.state", run, &task, state_payload("up_for_retry", "queued"))},
          [self = shared_from_this(), run_id, node](bool ok,
                                                    const std::vector<transition_outcome>& o) {
              live_run* run = self->find_run(run_id);
              if (run == nullptr) {
                  return;
              }
              live_task& task = run->tasks[node];
              task.busy = false;
              if (!ok || !all_applied(o)) {
                  self->stall(*run, "could not requeue task " + task.spec->name);
                  return;
              }
              if (run->ending != run_ending::none) {
                  self->settle(*run);
                  return;
              }
              self->queue_.push(dispatch_item{
                  task.id, run->id, run->definition->spec->name, task.spec->pool,
                  run->definition->spec->max_active_tasks, run->trigger == trigger_kind::backfill});
              self->dispatch();
          });
}

}  // namespace sluice::scheduler
