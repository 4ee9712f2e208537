#include "etl/trigger_job_task.hpp"

#include <chrono>

#include "etl/attempt_stop.hpp"

namespace sluice::etl {

namespace {

std::string_view end_name(scheduler::launched_run_end end) {
    switch (end) {
        case scheduler::launched_run_end::success:
            return "success";
        case scheduler::launched_run_end::failed:
            return "failed";
        case scheduler::launched_run_end::canceled:
            return "canceled";
        case scheduler::launched_run_end::timed_out:
            return "timed_out";
    }
    return "unknown";
}

}  // namespace

std::string trigger_job_key(core::run_id parent, const std::string& task) {
    return "trigger_job:" + parent.to_string() + ":" + task;
}

scheduler::task_outcome trigger_job_task::run(const scheduler::task_context& context) {
    using scheduler::launched_run_end;
    using scheduler::task_outcome;
    const auto* spec = std::get_if<config::trigger_job_spec>(&context.task.kind);
    if (spec == nullptr) {
        return task_outcome::failure(core::error_class::permanent,
                                     "task '" + context.task.name + "' is not a trigger_job task");
    }
    if (context.launcher == nullptr) {
        return task_outcome::failure(core::error_class::permanent,
                                     "trigger_job tasks run only under the scheduler engine");
    }
    if (auto stopped = stopped_outcome(context)) {
        return *stopped;
    }
    scheduler::job_launcher& launcher = *context.launcher;
    const auto stop = [&context] { return pending_stop(context).has_value(); };
    const std::string actor =
        "trigger_job:" + context.job.name + ":" + context.run.to_string() + ":" + context.task.name;

    scheduler::launch_request request;
    request.job = spec->job;
    for (const auto& [name, value] : spec->params) {
        request.params[name] = value;
    }
    request.idempotency_key = trigger_job_key(context.run, context.task.name);
    request.actor = actor;
    request.logical_time = context.logical_time;
    request.data_interval_start = context.data_interval_start;
    request.data_interval_end = context.data_interval_end;
    auto launched = launcher.trigger(request, stop);
    if (!launched) {
        if (const auto cause = pending_stop(context)) {
            return stop_outcome(*cause, "while triggering job " + spec->job);
        }
        return task_outcome::failure(launched.error().cls, "could not trigger job " + spec->job +
                                                               ": " + launched.error().message);
    }
    const core::run_id child = launched->run;
    const std::string child_name = "run " + child.to_string() + " of job " + spec->job;
    log_system(context, launched->created
                            ? "triggered " + child_name
                            : "re-attached to " + child_name + ", started by an earlier attempt");
    if (!spec->wait) {
        return task_outcome::ok();
    }

    const auto started = std::chrono::steady_clock::now();
    bool rerun = false;
    for (;;) {
        auto end = launcher.wait(child, stop);
        if (!end) {
            return task_outcome::failure(end.error().cls,
                                         "waiting for " + child_name + ": " + end.error().message);
        }
        if (!*end) {
            const auto cause = pending_stop(context).value_or(stop_cause::shutdown);
            if (cause == stop_cause::shutdown) {
                return stop_outcome(cause, child_name + " goes on; the retry re-attaches to it");
            }
            auto canceled = launcher.cancel(child, actor);
            return stop_outcome(cause, !canceled ? "could not cancel " + child_name + ": " +
                                                       canceled.error().message
                                       : *canceled ? child_name + " canceled"
                                                   : child_name + " had already finished");
        }
        const launched_run_end how = **end;
        if (how == launched_run_end::success) {
            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count();
            log_system(context,
                       child_name + " succeeded after " + std::to_string(secs) + " s of waiting");
            return task_outcome::ok();
        }
        // A re-attached run that had already failed is rerun once: this attempt is a retry of
        // the task (by policy, after a restart or by hand) and a retry means "try again".
        if (!launched->created && !rerun) {
            rerun = true;
            auto again = launcher.rerun_failed(child, actor, stop);
            if (!again) {
                if (const auto cause = pending_stop(context)) {
                    return stop_outcome(*cause, "while rerunning " + child_name);
                }
                return task_outcome::failure(again.error().cls, "could not rerun " + child_name +
                                                                    ": " + again.error().message);
            }
            log_system(context, child_name + " had ended " + std::string(end_name(how)) +
                                    "; its failed tasks run again");
            continue;
        }
        // Permanent: the child's tasks had their own retries. `runs retry` of the parent
        // reruns the child's failed part (above).
        std::string message = child_name + " ended " + std::string(end_name(how)) +
                              "; its tasks' errors: sluice runs show " + child.to_string();
        log_system(context, message);
        return task_outcome::failure(core::error_class::permanent, std::move(message));
    }
}

}  // namespace sluice::etl
