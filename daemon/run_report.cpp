#include "daemon/run_report.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/time.hpp"
#include "daemon/client_output.hpp"

namespace sluice::daemon {
namespace {

std::string when(const std::optional<core::time_point>& t) {
    if (!t) {
        return "-";
    }
    return core::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(*t));
}

nlohmann::json when_json(const std::optional<core::time_point>& t) {
    return t ? nlohmann::json(when(t)) : nlohmann::json(nullptr);
}

std::string took(const std::optional<core::time_point>& start,
                 const std::optional<core::time_point>& end) {
    if (!start || !end) {
        return "-";
    }
    return core::format_duration(std::chrono::duration_cast<core::duration>(*end - *start));
}

}  // namespace

nlohmann::json run_json(const scheduler::run_record& run) {
    nlohmann::json j{
        {"id", run.id.value},
        {"job", run.job},
        {"run_key", run.run_key},
        {"trigger", std::string(scheduler::to_string(run.trigger))},
        {"state", std::string(scheduler::to_string(run.state))},
        {"logical_time", when_json(run.logical_time)},
        {"data_interval_start", when_json(run.data_interval_start)},
        {"data_interval_end", when_json(run.data_interval_end)},
        {"created_at", when(run.created_at)},
        {"started_at", when_json(run.started_at)},
        {"finished_at", when_json(run.finished_at)},
    };
    j["params"] = nlohmann::json::parse(run.params_json, nullptr, false);
    if (j["params"].is_discarded()) {
        j["params"] = nlohmann::json::object();
    }
    return j;
}

nlohmann::json task_instance_json(const scheduler::task_instance_record& ti) {
    nlohmann::json j{
        {"task", ti.task},
        {"state", std::string(scheduler::to_string(ti.state))},
        {"try_number", ti.try_number},
        {"max_tries", ti.max_tries},
        {"interruptions", ti.interruptions},
        {"queued_at", when_json(ti.queued_at)},
        {"started_at", when_json(ti.started_at)},
        {"finished_at", when_json(ti.finished_at)},
        {"next_attempt_at", when_json(ti.next_attempt_at)},
        {"error_class", ti.error_cls
                            ? nlohmann::json(std::string(scheduler::to_string(*ti.error_cls)))
                            : nlohmann::json(nullptr)},
        {"error", ti.error_message ? nlohmann::json(*ti.error_message) : nlohmann::json(nullptr)},
    };
    j["metrics"] = nlohmann::json::parse(ti.metrics_json, nullptr, false);
    if (j["metrics"].is_discarded()) {
        j["metrics"] = nlohmann::json::object();
    }
    j["outputs"] = nlohmann::json::parse(ti.outputs_json, nullptr, false);
    if (j["outputs"].is_discarded()) {
        j["outputs"] = nlohmann::json::object();
    }
    return j;
}

void print_run_report(scheduler::run_store& store, const scheduler::run_record& run,
                      std::ostream& out, bool with_logs) {
    out << "run " << run.id.value << "  job " << run.job << "  " << scheduler::to_string(run.state)
        << "  (" << scheduler::to_string(run.trigger) << ")\n";
    if (run.logical_time) {
        out << "  logical time   " << when(run.logical_time) << "\n";
    }
    if (run.data_interval_start || run.data_interval_end) {
        out << "  data interval  " << when(run.data_interval_start) << " .. "
            << when(run.data_interval_end) << "\n";
    }
    out << "  started        " << when(run.started_at) << "\n";
    out << "  finished       " << when(run.finished_at) << "  (took "
        << took(run.started_at, run.finished_at) << ")\n";
    auto tasks = store.list_task_instances(run.id);
    if (!tasks) {
        out << "  tasks: unavailable (" << tasks.error().message << ")\n";
        return;
    }
    out << "  " << std::left << std::setw(24) << "TASK" << std::setw(17) << "STATE" << std::setw(7)
        << "TRY" << std::setw(10) << "TOOK"
        << "ERROR\n";
    for (const auto& ti : *tasks) {
        out << "  " << std::setw(24) << ti.task << std::setw(17) << scheduler::to_string(ti.state)
            << std::setw(7) << (std::to_string(ti.try_number) + "/" + std::to_string(ti.max_tries))
            << std::setw(10) << took(ti.started_at, ti.finished_at) << ti.error_message.value_or("")
            << "\n";
    }
    nlohmann::json with_outputs = nlohmann::json::array();
    for (const auto& ti : *tasks) {
        with_outputs.push_back(task_instance_json(ti));
    }
    print_task_outputs(with_outputs, out);
    // The tries a retry, restart or rerun superseded (the table above shows each task's last).
    if (auto earlier = store.list_task_attempts(run.id); earlier && !earlier->empty()) {
        out << "  earlier tries:\n";
        for (const auto& a : *earlier) {
            auto ti = std::find_if(tasks->begin(), tasks->end(),
                                   [&](const auto& t) { return t.id == a.task_instance; });
            const std::string name = ti != tasks->end() ? ti->task : "?";
            out << "  " << std::setw(24) << name << std::setw(17) << scheduler::to_string(a.state)
                << std::setw(7) << std::to_string(a.try_number) << std::setw(10)
                << took(a.started_at, a.finished_at) << a.error_message.value_or("") << "\n";
        }
    }
    if (!with_logs) {
        return;
    }
    for (const auto& ti : *tasks) {
        auto lines = store.read_task_log(ti.id, 0, 100000);
        if (!lines || lines->empty()) {
            continue;
        }
        out << "--- " << ti.task << " ---\n";
        for (const auto& l : *lines) {
            out << "[try " << l.try_number << "] " << l.line.text << "\n";
        }
    }
}

void print_run_table(const std::vector<scheduler::run_record>& runs, std::ostream& out) {
    out << std::left << std::setw(8) << "ID" << std::setw(24) << "JOB" << std::setw(11) << "STATE"
        << std::setw(11) << "TRIGGER" << std::setw(22) << "LOGICAL TIME" << std::setw(22)
        << "STARTED"
        << "TOOK\n";
    for (const auto& r : runs) {
        out << std::setw(8) << r.id.value << std::setw(24) << r.job << std::setw(11)
            << scheduler::to_string(r.state) << std::setw(11) << scheduler::to_string(r.trigger)
            << std::setw(22) << when(r.logical_time) << std::setw(22) << when(r.started_at)
            << took(r.started_at, r.finished_at) << "\n";
    }
}

}  // namespace sluice::daemon
