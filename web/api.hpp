#pragma once

// The HTTP API v1 (docs/api.md): routing, auth, limits on content, JSON errors, audit records,
// and the handlers for probes, metrics, jobs, runs, logs, events and variables. Handlers run on
// the control loop; every store read or write goes to the API's own blocking pool and its result
// is posted back, so the loop never waits on the database.
//
// Lifecycle: construct on the composition root after the engine; route the engine's event
// observer to publish(); hand handle() to http_server; destroy before the loop's io_context.

#include <memory>
#include <string>
#include <string_view>

#include "config/spec.hpp"
#include "scheduler/engine.hpp"
#include "scheduler/node_registry.hpp"
#include "web/http_message.hpp"
#include "web/router.hpp"

namespace boost::asio {
class io_context;
}

namespace sluice::web {

class service_metrics;

struct api_dependencies {
    const config::sluice_config& config;
    scheduler::engine* engine;    // not null when serving
    scheduler::run_store* store;  // not null when serving; blocking: the API's pool only
    boost::asio::io_context& loop;
    // Commits audit records in the store writer's group commit, beside the runs and transitions
    // of the same moment (daemon/ binds store::store_writer::submit). Empty: each record is its
    // own append_event on the API's pool, one at a time.
    scheduler::transition_submitter submit_audit;
    // This process's node id in the store (docs/cluster.md): GET /api/v1/nodes marks its row
    // `self`. Empty: the process keeps no node row.
    std::string node_id = {};
    // What the node knows of itself and its cluster, read on the loop for /readyz and /metrics.
    // Empty: the process is not a node.
    std::function<scheduler::node_status()> node_status = {};
};

struct api_options {
    // Threads for store calls made by the API (reads, variables, audit records).
    int store_threads = 2;
    // How often a followed task log is polled for new lines.
    std::chrono::milliseconds log_poll_interval{std::chrono::milliseconds(200)};
    // Simultaneous event-stream clients (events and log follow); 429 beyond.
    std::size_t max_streams = 256;
    // An idle event stream gets a comment line this often, so proxies keep it open and a
    // vanished client is noticed.
    std::chrono::milliseconds keepalive_interval{std::chrono::seconds(15)};
};

class api {
public:
    api(api_dependencies deps, api_options options = {});
    ~api();
    api(const api&) = delete;
    api& operator=(const api&) = delete;

    // Loop thread: answers one request through `done`.
    void handle(http_request request, responder done);
    // Loop thread: the scheduler finished starting. Until then /api routes answer 503
    // `starting` (jobs are not loaded yet); probes answer at once.
    void set_started();
    // Loop thread: an engine event (metrics, event streams).
    void publish(const scheduler::new_event& e);
    // Loop thread: a reloaded configuration (SIGHUP). Job listings, job detail and triggers see
    // its jobs, and its server.tokens replace the running ones (call check_listen_policy on it
    // first). The other server settings (listen, limits) apply after a restart.
    void reconfigure(std::shared_ptr<const config::sluice_config> next);
    // Loop thread: a SIGHUP's reload finished, applied or rejected. /livez reports the count
    // and the last outcome, which `sluice reload` waits for.
    void note_reload(bool applied);
    // Any thread: the store writer's commit hook.
    void observe_store_commit(double seconds);
    // Loop thread: one node heartbeat (row, scheduler lease claim, node count) took `seconds`.
    void observe_lease_renewal(double seconds);
    // Any thread: one notification's outcome on one channel (delivered, failed, dropped).
    void observe_notification(std::string_view channel, std::string_view event,
                              std::string_view result);
    // Any thread: a run of `job` missed its SLA.
    void observe_sla_miss(const std::string& job);

    // Every route served, for docs/openapi.yaml's check.
    const std::vector<route>& routes() const;
    // (method, pattern) of every route, without a running engine or store.
    static std::vector<std::pair<std::string, std::string>> route_table();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace sluice::web
