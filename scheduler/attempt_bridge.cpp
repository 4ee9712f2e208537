#include "scheduler/attempt_bridge.hpp"

#include <exception>

#include <nlohmann/json.hpp>

#include "config/task_outputs.hpp"
#include "scheduler/task_runner.hpp"

namespace sluice::scheduler {

attempt_stop::attempt_stop() : signal_(std::make_shared<stop_signal>()) {}

void attempt_stop::request(attempt_stop_reason why) {
    switch (why) {
        case attempt_stop_reason::canceled:
            signal_->request(stop_signal::reason::canceled);
            break;
        case attempt_stop_reason::timed_out:
            signal_->request(stop_signal::reason::timed_out);
            break;
        case attempt_stop_reason::shutdown:
            signal_->request(stop_signal::reason::shutdown);
            break;
    }
}

bool attempt_stop::requested() const {
    return signal_->requested();
}

std::optional<attempt_stop_reason> attempt_stop::reason() const {
    switch (signal_->why()) {
        case stop_signal::reason::none:
            return std::nullopt;
        case stop_signal::reason::canceled:
            return attempt_stop_reason::canceled;
        case stop_signal::reason::timed_out:
            return attempt_stop_reason::timed_out;
        case stop_signal::reason::shutdown:
            return attempt_stop_reason::shutdown;
    }
    return std::nullopt;
}

namespace {

// The store's checkpoints through the request's functions.
class request_checkpoints final : public checkpoint_access {
public:
    explicit request_checkpoints(const attempt_request& request) : request_(request) {}

    core::result<std::optional<std::string>> get(std::string_view key) override {
        if (!request_.get_checkpoint) {
            return std::optional<std::string>();
        }
        return request_.get_checkpoint(key);
    }
    core::result<void> put(std::string_view key, std::string_view value_json) override {
        if (!request_.put_checkpoint) {
            return {};
        }
        return request_.put_checkpoint(key, value_json);
    }

private:
    const attempt_request& request_;
};

std::string progress_json(const task_progress& p) {
    nlohmann::json j{{"rows_read", p.rows_read},
                     {"rows_reread", p.rows_reread},
                     {"rows_written", p.rows_written},
                     {"rows_deleted", p.rows_deleted},
                     {"bytes", p.bytes},
                     {"batches", p.batches},
                     {"rows_per_second", p.rows_per_second},
                     {"done", p.done}};
    if (p.mark) {
        j["mark"] = nlohmann::json::parse(*p.mark, nullptr, false);
    }
    if (p.lag_seconds) {
        j["lag_seconds"] = *p.lag_seconds;
    }
    return j.dump();
}

}  // namespace

attempt_result run_attempt(task_runner& runner, const attempt_request& request,
                           const attempt_stop& stop) {
    request_checkpoints checkpoints(request);
    task_context context{
        .config = *request.config,
        .job = *request.job,
        .task = *request.task,
        .run = request.run,
        .task_instance = request.task_instance,
        .try_number = request.try_number,
        .logical_time = request.logical_time,
        .data_interval_start = request.data_interval_start,
        .data_interval_end = request.data_interval_end,
        .params = request.params,
        .variables = request.variables,
        .secret_variables = request.secret_variables,
        .deadline = request.deadline,
        .stop = stop.signal(),
        .clock = *request.clock,
        .on_log =
            [&request](output_line line) {
                if (request.on_output) {
                    request.on_output(attempt_output{line.at, static_cast<int>(line.source),
                                                     std::move(line.text)});
                }
            },
        .on_metric =
            [&request](std::string_view name, double value) {
                if (request.on_metric) {
                    request.on_metric(name, value);
                }
            },
        .launcher = request.launcher,
        .checkpoints = &checkpoints,
        .on_progress =
            [&request](const task_progress& progress) {
                if (request.on_progress) {
                    request.on_progress(progress_json(progress));
                }
            },
        .upstream_outputs = request.upstream_outputs,
    };
    attempt_result result;
    task_outcome outcome;
    try {
        outcome = runner.run(context);
    } catch (const std::exception& e) {
        outcome = task_outcome::failure(core::error_class::permanent,
                                        std::string("task runner threw: ") + e.what());
    }
    result.message = outcome.message;
    result.exit_code = outcome.exit_code;
    switch (outcome.result) {
        case task_outcome::status::success:
            result.end = attempt_end::success;
            if (auto problem = config::outputs_problem(outcome.outputs)) {
                result.end = attempt_end::failed_permanent;
                result.message = *problem;
            } else if (!outcome.outputs.empty()) {
                nlohmann::json outputs = nlohmann::json::object();
                for (const auto& [name, value] : outcome.outputs) {
                    outputs[name] = value;
                }
                // Values are text from the task; invalid UTF-8 is replaced rather than refused.
                result.outputs_json =
                    outputs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            }
            break;
        case task_outcome::status::failed:
            result.end = outcome.error_class == core::error_class::transient
                             ? attempt_end::failed_transient
                             : attempt_end::failed_permanent;
            break;
        case task_outcome::status::timed_out:
            result.end = attempt_end::timed_out;
            break;
        case task_outcome::status::canceled:
            result.end = attempt_end::canceled;
            break;
    }
    // A runner stopped on request reports what it saw (often a kill); what matters is why it
    // was asked. A success that raced the request stands.
    if (result.end != attempt_end::success) {
        if (std::optional<attempt_stop_reason> why = stop.reason()) {
            switch (*why) {
                case attempt_stop_reason::canceled:
                    result.end = attempt_end::canceled;
                    break;
                case attempt_stop_reason::timed_out:
                    result.end = attempt_end::timed_out;
                    break;
                case attempt_stop_reason::shutdown:
                    result.end = attempt_end::shutdown;
                    break;
            }
        }
    }
    return result;
}

}  // namespace sluice::scheduler
