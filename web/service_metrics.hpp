#pragma once

// The metrics `GET /metrics` exports (docs/api.md), fed by engine events on the loop and by
// the store writer's commit hook on its thread, rendered in the Prometheus text format 0.0.4.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "core/metrics.hpp"
#include "scheduler/engine.hpp"
#include "scheduler/node_registry.hpp"

namespace sluice::web {

class service_metrics {
public:
    service_metrics();

    // Loop thread: counts run and task transitions, attempt durations and schedule lateness.
    void observe(const scheduler::new_event& e);
    // Any thread: one store commit took `seconds`.
    void observe_store_commit(double seconds) { store_commit_.observe(seconds); }
    // Loop thread: one node heartbeat with its scheduler lease claim took `seconds`.
    void observe_lease_renewal(double seconds) { lease_renewal_.observe(seconds); }
    // Loop thread: one API answer. `route` is the route pattern ("unmatched" for 404s), so the
    // label set stays bounded whatever paths clients send.
    void observe_request(const std::string& method, const std::string& route, int status) {
        http_requests_total_.at({method, route, std::to_string(status)}).add();
    }
    // Any thread: one notification's outcome on one channel ("webhook", "email"): delivered,
    // failed (tries used up or refused) or dropped (queue full).
    void observe_notification(std::string_view channel, std::string_view event,
                              std::string_view result) {
        notifications_total_.at({std::string(channel), std::string(event), std::string(result)})
            .add();
    }
    // Any thread: a run of `job` was not finished at its SLA deadline.
    void observe_sla_miss(const std::string& job) { sla_misses_total_.at({job}).add(); }
    // Loop thread: event streams open now.
    void set_open_streams(std::size_t n) { open_streams_.set(static_cast<std::int64_t>(n)); }

    // The exposition text; `stats` are the engine's gauges read on the loop just before, `node`
    // what a cluster node knows of itself and its cluster (none: not a node).
    std::string render(const scheduler::engine_stats& stats,
                       const std::optional<scheduler::node_status>& node = std::nullopt) const;

private:
    // A copy task's task.progress event: adds the rows since its previous report.
    void observe_progress(const scheduler::new_event& e, const nlohmann::json& payload);

    core::family<core::counter> runs_total_;           // job, state
    core::family<core::counter> task_attempts_total_;  // job, task, state
    core::histogram task_duration_;
    core::histogram schedule_lateness_;
    core::histogram store_commit_;
    core::histogram lease_renewal_;
    core::family<core::counter> http_requests_total_;  // method, route, status
    core::gauge open_streams_;
    // Copy tasks (task.progress events): rows moved and lag behind the source.
    core::family<core::counter> etl_rows_total_;  // job, task, direction (read|written|deleted)
    core::family<core::gauge> etl_lag_seconds_;   // job, task
    // What the last progress report of each running copy attempt counted, keyed by
    // (run, task): reports are cumulative per attempt, the counters add the difference.
    struct etl_counts {
        std::uint64_t read = 0;
        std::uint64_t written = 0;
        std::uint64_t deleted = 0;
    };
    std::map<std::pair<std::int64_t, std::string>, etl_counts> etl_reported_;
    core::family<core::counter> notifications_total_;  // channel, event, result
    core::family<core::counter> sla_misses_total_;     // job
    // When each running attempt started, keyed by (run, task); loop thread only.
    std::map<std::pair<std::int64_t, std::string>, core::time_point> attempt_started_;
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string escape_label(std::string_view value);

}  // namespace sluice::web
