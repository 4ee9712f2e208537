#pragma once

// This `sluice serve` process as a node of the cluster on its store (docs/cluster.md): it writes
// its node row before the scheduler starts, heartbeats it every `cluster.heartbeat` on a timer
// of its own, says `draining` once a drain begins and `stopped` on a clean exit, so that a
// stopped node is never listed as lost. With every heartbeat it also claims the scheduler lease
// (docs/cluster.md#the-scheduler) and reports the outcome to the engine; a drain or a clean
// exit gives the lease up, so another node takes it at its next heartbeat. Every store call runs on
// a thread of its own: the control loop never waits on the store, and a heartbeat never queues
// behind the engine's store work (a long one would make the node read as lost). At most one
// heartbeat is in flight: a tick that finds the previous one still waiting on the store is skipped,
// not queued.
//
// Lifecycle: construct after the store; join() before the loop runs; start() on the loop; then
// drain() and leave() on the loop. Destroy before the loop's io_context (the destructor waits
// for the store call in flight, bounded by store.timeout).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "config/spec.hpp"
#include "core/error.hpp"
#include "scheduler/engine.hpp"
#include "scheduler/node_registry.hpp"

namespace spdlog {
class logger;
}

namespace sluice::daemon {

// The hash of the loaded configuration: hex SHA-256 of the files read (the base file, then its
// overlay), so an operator sees at a glance which nodes run the same file.
std::string config_hash(const config::sluice_config& config);

// The node name `cluster.node_name` gives, else HOST:PID.
std::string node_name_of(const config::cluster_spec& cluster, const std::string& host, long pid);

class node_membership {
public:
    // `self` is the row to keep: id (the lease owner name), name, version, config hash, info and
    // lease_ttl; `heartbeat` is cluster.heartbeat.
    node_membership(scheduler::node_registry& registry, boost::asio::io_context& loop,
                    scheduler::node_registration self, std::chrono::milliseconds heartbeat);
    ~node_membership();
    node_membership(const node_membership&) = delete;
    node_membership& operator=(const node_membership&) = delete;

    // Blocking, before the loop runs: writes the node row (a failure keeps the daemon from
    // starting, like any other store failure at startup) and makes the first claim of the
    // scheduler lease, whose outcome scheduler_lease() then holds.
    core::result<void> join();
    // The outcome of the last claim: the grant, or nullopt when another node holds the lease.
    const std::optional<scheduler::scheduler_grant>& scheduler_lease() const { return lease_; }
    // Loop thread, or before the loop runs: called with the outcome of every later claim.
    void on_scheduler_lease(std::function<void(std::optional<scheduler::scheduler_grant>)> f) {
        on_lease_ = std::move(f);
    }
    // Loop thread: arms the heartbeat timer.
    void start();
    // Loop thread: the row says draining (SIGTERM or SIGINT); heartbeats go on.
    void drain();
    // Loop thread: a reload changed the configuration; the row gets its new hash.
    void reconfigure(std::string hash);
    // Loop thread: no more heartbeats, the row says stopped, then `done` runs on the loop (also
    // when the write failed: that is logged, and the row then reads as lost until forgotten).
    void leave(std::function<void()> done);

    // Loop thread, or before the loop runs: called with how long each heartbeat took (the row, the
    // lease claim and the count of nodes), for the lease-renewal latency metric.
    void on_heartbeat_seconds(std::function<void(double)> f) { on_beat_seconds_ = std::move(f); }
    // Loop thread: what this node knows of itself and its cluster (for /readyz and /metrics).
    scheduler::node_status status() const;

    const std::string& id() const { return self_.id; }

private:
    // Store thread: one claim of the lease, taken from a holder that provably exited. Not held:
    // `holder_remaining` gets how long the holder's lease still runs.
    core::result<std::optional<scheduler::scheduler_grant>> claim(
        const scheduler::node_registration& row, std::chrono::microseconds* holder_remaining);
    void arm();
    void on_tick();
    // One heartbeat with its claim, unless one is in flight.
    void beat();
    // Arms an extra claim just after the holder's lease runs out, when that comes before the
    // next heartbeat.
    void claim_at_expiry(std::chrono::microseconds remaining);
    // Runs `work` on the store thread and `then` back on the loop.
    void on_store(std::function<core::result<void>()> work,
                  std::function<void(core::result<void>)> then);
    void report(const core::result<void>& beat);

    scheduler::node_registry& registry_;
    boost::asio::io_context& loop_;
    scheduler::node_registration self_;  // read and written on the loop; copied to the store
    const std::chrono::milliseconds heartbeat_;
    std::shared_ptr<spdlog::logger> log_;
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer claim_timer_;        // claim_at_expiry
    std::chrono::microseconds join_remaining_{0};  // the holder's, when join() found one
    bool beating_ = false;                         // a heartbeat is in flight
    bool left_ = false;                            // leave() was called: no more heartbeats
    bool failing_ = false;  // the last heartbeat failed (logged once until one succeeds)
    std::optional<scheduler::scheduler_grant> lease_;  // loop thread
    std::function<void(std::optional<scheduler::scheduler_grant>)> on_lease_;
    std::function<void(double)> on_beat_seconds_;
    // When the newest heartbeat (or the join) reached the store, and the nodes it counted.
    std::chrono::steady_clock::time_point last_beat_ = std::chrono::steady_clock::now();
    std::map<scheduler::node_state, std::int64_t> nodes_;
    // Last: destroyed (joined) first, while everything its work touches still exists.
    boost::asio::thread_pool store_thread_{1};
};

}  // namespace sluice::daemon
