#include "web/service_metrics.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sluice/version.hpp"

namespace sluice::web {

namespace {

// The shortest text that reads back as the same double ("0.005", not "0.0050000000000000001").
std::string number(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string labels(const std::vector<std::string>& names, const core::label_values& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += names[i] + "=\"" + escape_label(values[i]) + "\"";
    }
    return out + "}";
}

void header(std::ostringstream& out, std::string_view name, std::string_view type,
            std::string_view help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void render_histogram(std::ostringstream& out, std::string_view name, std::string_view help,
                      const core::histogram& h) {
    header(out, name, "histogram", help);
    const auto s = h.read();
    for (std::size_t i = 0; i < s.bounds.size(); ++i) {
        out << name << "_bucket{le=\"" << number(s.bounds[i]) << "\"} " << s.cumulative[i] << '\n';
    }
    out << name << "_bucket{le=\"+Inf\"} " << s.count << '\n';
    out << name << "_sum " << number(s.sum) << '\n';
    out << name << "_count " << s.count << '\n';
}

// Resident set size, CPU seconds and open descriptors from /proc (cheap reads of kernel state).
struct process_stats {
    double rss_bytes = 0;
    double cpu_seconds = 0;
    double open_fds = 0;
    double start_time_seconds = 0;
};

process_stats read_process_stats() {
    process_stats p;
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name, which is in parentheses and may contain spaces.
    const auto close = content.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(content.substr(close + 2));
        std::vector<std::string> f{std::istream_iterator<std::string>(fields),
                                   std::istream_iterator<std::string>()};
        // f[0] is field 3 (state): utime is field 14, stime 15, starttime 22, rss 24.
        const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
        const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
        if (f.size() > 21) {
            p.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
            p.rss_bytes = std::stod(f[21]) * page;
        }
    }
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        p.open_fds += 1;
    }
    return p;
}

}  // namespace

std::string escape_label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

service_metrics::service_metrics()
    : task_duration_(core::histogram::seconds_buckets()),
      schedule_lateness_(core::histogram::seconds_buckets()),
      store_commit_(core::histogram::seconds_buckets()),
      lease_renewal_(core::histogram::seconds_buckets()) {}

void service_metrics::observe_progress(const scheduler::new_event& e,
                                       const nlohmann::json& payload) {
    if (!payload.contains("rows_written")) {
        return;  // a task's own `::sluice metric`, not a copy's progress
    }
    const std::string job = e.job.value_or("");
    const std::string task = e.task.value_or("");
    const std::pair<std::int64_t, std::string> key{e.run ? e.run->value : 0, task};
    const auto read = payload.value("rows_read", std::uint64_t{0});
    const auto written = payload.value("rows_written", std::uint64_t{0});
    const auto deleted = payload.value("rows_deleted", std::uint64_t{0});
    auto& last = etl_reported_[key];
    // A new attempt starts counting from zero again.
    if (read < last.read || written < last.written || deleted < last.deleted) {
        last = {};
    }
    etl_rows_total_.at({job, task, "read"}).add(read - last.read);
    etl_rows_total_.at({job, task, "written"}).add(written - last.written);
    if (deleted > last.deleted) {
        etl_rows_total_.at({job, task, "deleted"}).add(deleted - last.deleted);
    }
    last = {read, written, deleted};
    if (payload.contains("lag_seconds") && payload["lag_seconds"].is_number()) {
        etl_lag_seconds_.at({job, task})
            .set(static_cast<std::int64_t>(payload["lag_seconds"].get<double>()));
    }
    if (payload.value("done", false)) {
        etl_reported_.erase(key);
    }
}

void service_metrics::observe(const scheduler::new_event& e) {
    if (e.kind != "run.state" && e.kind != "task.state" && e.kind != "task.progress") {
        return;
    }
    const auto payload = nlohmann::json::parse(e.payload_json, nullptr, false);
    if (!payload.is_object()) {
        return;
    }
    if (e.kind == "task.progress") {
        observe_progress(e, payload);
        return;
    }
    const std::string from = payload.value("from", "");
    const std::string to = payload.value("to", "");
    const std::string job = e.job.value_or("");
    if (e.kind == "run.state") {
        if (auto s = scheduler::parse_run_state(to); s && scheduler::is_terminal(*s)) {
            runs_total_.at({job, to}).add();
        }
        if (to == "running" && payload.contains("lateness_seconds")) {
            schedule_lateness_.observe(std::max(0.0, payload.value("lateness_seconds", 0.0)));
        }
        return;
    }
    const std::int64_t run = e.run ? e.run->value : 0;
    const std::string task = e.task.value_or("");
    if (to == "running") {
        attempt_started_[{run, task}] = e.at;
    } else if (from == "running") {
        task_attempts_total_.at({job, task, to}).add();
        if (auto it = attempt_started_.find({run, task}); it != attempt_started_.end()) {
            task_duration_.observe(std::chrono::duration<double>(e.at - it->second).count());
            attempt_started_.erase(it);
        }
    }
}

std::string service_metrics::render(const scheduler::engine_stats& stats,
                                    const std::optional<scheduler::node_status>& node) const {
    std::ostringstream out;
    header(out, "sluice_build_info", "gauge", "Build information; the value is always 1.");
    out << "sluice_build_info{version=\"" << escape_label(sluice::version_string) << "\"} 1\n";

    header(out, "sluice_runs_total", "counter", "Runs finished, by job and final state.");
    runs_total_.for_each([&](const core::label_values& l, const core::counter& c) {
        out << "sluice_runs_total" << labels({"job", "state"}, l) << ' ' << c.value() << '\n';
    });
    header(out, "sluice_task_attempts_total", "counter",
           "Task attempts ended, by job, task and the state they ended in.");
    task_attempts_total_.for_each([&](const core::label_values& l, const core::counter& c) {
        out << "sluice_task_attempts_total" << labels({"job", "task", "state"}, l) << ' '
            << c.value() << '\n';
    });
    render_histogram(out, "sluice_task_duration_seconds", "Duration of task attempts.",
                     task_duration_);
    render_histogram(out, "sluice_schedule_lateness_seconds",
                     "Actual start of a scheduled run minus its scheduled time.",
                     schedule_lateness_);
    render_histogram(out, "sluice_store_commit_seconds",
                     "Duration of run-state store commits (group commits).", store_commit_);
    if (node) {
        // docs/cluster.md: the scheduler lease and the nodes as the newest heartbeat saw them.
        header(out, "sluice_leader", "gauge",
               "1 while this node holds the scheduler lease (creates scheduled and backfill "
               "runs), else 0.");
        out << "sluice_leader " << (node->scheduler ? 1 : 0) << '\n';
        header(out, "sluice_cluster_nodes", "gauge",
               "Nodes of the cluster by state, as this node's newest heartbeat counted them.");
        for (scheduler::node_state s :
             {scheduler::node_state::active, scheduler::node_state::draining,
              scheduler::node_state::lost}) {
            auto it = node->nodes.find(s);
            out << "sluice_cluster_nodes{state=\"" << scheduler::to_string(s) << "\"} "
                << (it == node->nodes.end() ? 0 : it->second) << '\n';
        }
        render_histogram(out, "sluice_lease_renewal_seconds",
                         "Duration of node heartbeats: the node row, the scheduler lease claim "
                         "and the count of nodes.",
                         lease_renewal_);
    }
    header(out, "sluice_running_tasks", "gauge", "Task attempts executing now.");
    out << "sluice_running_tasks " << stats.running_tasks << '\n';
    header(out, "sluice_queued_tasks", "gauge", "Task instances waiting for a worker slot.");
    out << "sluice_queued_tasks " << stats.queued_tasks << '\n';

    header(out, "sluice_etl_rows_total", "counter",
           "Rows copy tasks read from sources and wrote to sinks, by job, task and direction.");
    etl_rows_total_.for_each([&](const core::label_values& l, const core::counter& c) {
        out << "sluice_etl_rows_total" << labels({"job", "task", "direction"}, l) << ' '
            << c.value() << '\n';
    });
    header(out, "sluice_etl_lag_seconds", "gauge",
           "How far a copy task's mark is behind the source's newest cursor value, in seconds.");
    etl_lag_seconds_.for_each([&](const core::label_values& l, const core::gauge& g) {
        out << "sluice_etl_lag_seconds" << labels({"job", "task"}, l) << ' ' << g.value() << '\n';
    });

    header(out, "sluice_http_requests_total", "counter",
           "API answers by method, route pattern and status.");
    http_requests_total_.for_each([&](const core::label_values& l, const core::counter& c) {
        out << "sluice_http_requests_total" << labels({"method", "route", "status"}, l) << ' '
            << c.value() << '\n';
    });
    header(out, "sluice_http_event_streams", "gauge", "Event streams (SSE) open now.");
    out << "sluice_http_event_streams " << open_streams_.value() << '\n';

    header(out, "sluice_notifications_total", "counter",
           "Notifications by channel, event and outcome (delivered, failed, dropped).");
    notifications_total_.for_each([&](const core::label_values& l, const core::counter& c) {
        out << "sluice_notifications_total" << labels({"channel", "event", "result"}, l) << ' '
            << c.value() << '\n';
    });
    header(out, "sluice_sla_misses_total", "counter",
           "Runs not finished at their SLA deadline, by job.");
    sla_misses_total_.for_each([&](const core::label_values& l, const core::counter& c) {
        out << "sluice_sla_misses_total" << labels({"job"}, l) << ' ' << c.value() << '\n';
    });

    const process_stats p = read_process_stats();
    header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    out << "process_resident_memory_bytes " << number(p.rss_bytes) << '\n';
    header(out, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds.");
    out << "process_cpu_seconds_total " << number(p.cpu_seconds) << '\n';
    header(out, "process_open_fds", "gauge", "Open file descriptors.");
    out << "process_open_fds " << number(p.open_fds) << '\n';
    return out.str();
}

}  // namespace sluice::web
