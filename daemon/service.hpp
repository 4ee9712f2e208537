#pragma once

// The composition root of a running Sluice: the one place that names concrete implementations
// (the store, the task kinds) and joins them to the scheduler engine on one control loop.

#include <functional>
#include <memory>
#include <string>

#include "config/spec.hpp"
#include "core/error.hpp"
#include "scheduler/engine.hpp"
#include "scheduler/node_registry.hpp"

namespace boost::asio {
class io_context;
}

namespace sluice::daemon {

struct service_options {
    // Arm job schedules and drive the store's unfinished runs and backfills (serve), or only
    // run what is asked for (run).
    bool run_schedules = true;
    // What this process is, for whoever is refused the store's lock ("sluice serve").
    std::string role = "sluice serve";
    std::string instance_id;  // "" = this process's unique identity (process_identity.hpp)
    // A cluster node (serve): its instance row is its node row, kept by node_membership on the
    // store's clock rather than by the engine (docs/cluster.md).
    bool cluster_node = false;
};

// Owns, in construction order: the store's engine lock (SQLite: one process runs jobs on a
// store), the store (opened and migrated), the group-commit writer, the
// task-kind registry, the control loop and the engine. Destruction runs in reverse.
class service {
public:
    // Locks (SQLite), opens and migrates the store; transient store errors are retried with
    // backoff for a bounded time (a database that is still starting), permanent ones, and a
    // SQLite store another process runs jobs on, fail at once.
    static core::result<std::unique_ptr<service>> open(const config::sluice_config& config,
                                                       const service_options& options);
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    scheduler::engine& engine();
    scheduler::run_store& store();
    // The store's node rows (docs/cluster.md); null for a store that keeps none.
    scheduler::node_registry* nodes();
    // True when this process holds the store alone (SQLite's engine lock).
    bool exclusive() const;
    boost::asio::io_context& loop();
    // Submits to the group-commit writer (any thread; completions on the writer thread). Valid
    // until the service is destroyed, which commits what was submitted first.
    scheduler::transition_submitter submitter();
    // Reports the duration of every store commit (seconds, on the writer thread); set before
    // the engine starts.
    void set_store_commit_observer(std::function<void(double)> observer);

    struct parts;

private:
    explicit service(std::unique_ptr<parts> p);
    std::unique_ptr<parts> parts_;
};

}  // namespace sluice::daemon
