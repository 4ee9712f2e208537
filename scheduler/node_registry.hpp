#pragma once

// Cluster membership (docs/cluster.md): every `sluice serve` process on a store keeps a node
// row, its instance row (the lease owner name is the node's id) with the node's name, version,
// configuration hash and lease time-to-live. A capability of the SQL stores beside run_store;
// the daemon keeps its own row, the API lists every row. Every time here is read from and
// written by the store's clock (PostgreSQL's now()), never the caller's: the nodes of a
// cluster run on machines whose clocks may disagree, and the store is the one clock they share.
// Blocking calls, like run_store's: never from the control loop.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace sluice::scheduler {

// What a node row says. active, draining and stopped are what a node writes of itself;
// `lost` is never written: a row reads as lost once its heartbeat is older than its lease_ttl
// by the store's clock, whatever it says.
enum class node_state { active, draining, stopped, lost };

inline std::string_view to_string(node_state s) {
    switch (s) {
        case node_state::active:
            return "active";
        case node_state::draining:
            return "draining";
        case node_state::stopped:
            return "stopped";
        case node_state::lost:
            return "lost";
    }
    return "active";
}

inline std::optional<node_state> parse_node_state(std::string_view name) {
    for (node_state s :
         {node_state::active, node_state::draining, node_state::stopped, node_state::lost}) {
        if (to_string(s) == name) {
            return s;
        }
    }
    return std::nullopt;
}

// What a node registers: its row, replacing the one of the same id.
struct node_registration {
    std::string id;           // the lease owner name, HOST:PID:NONCE (daemon/process_identity)
    std::string name;         // cluster.node_name; the default is HOST:PID
    std::string version;      // the sluice version it runs
    std::string config_hash;  // of the configuration it loaded
    // For other processes' lease_owner_gone, as run_store's instance rows hold it.
    std::string info_json = "{}";
    // How long the row counts as alive after its last heartbeat.
    std::chrono::microseconds lease_ttl{std::chrono::seconds(10)};
    node_state state = node_state::active;  // active or draining
    // The process holds the store alone (a SQLite store's engine lock): no other node can be
    // alive, so the rows of earlier ones that were not stopped are marked stopped.
    bool sole = false;
};

// A node as listed: one that is active, draining or lost (stopped nodes are not listed).
struct node_record {
    std::string id;
    std::string name;
    std::string version;
    std::string config_hash;
    node_state state = node_state::active;
    core::time_point started_at;    // store clock, at registration
    core::time_point heartbeat_at;  // store clock, at the newest heartbeat
    // The store's clock now minus heartbeat_at: how stale the row is, read in one clock.
    std::chrono::microseconds heartbeat_age{0};
    std::chrono::microseconds lease_ttl{0};
    // Task instances running under a lease the node holds.
    std::int64_t running_attempts = 0;
    // It holds the scheduler lease (unexpired by the store's clock): it creates the scheduled and
    // backfill runs.
    bool scheduler = false;
};

// What a node knows of itself and its cluster (daemon/node_membership.hpp), for /readyz and
// /metrics; read on the control loop.
struct node_status {
    std::string name;
    node_state state = node_state::active;  // what it says of itself: active or draining
    bool scheduler = false;                 // it holds the scheduler lease, by its own deadline
    // Since the newest heartbeat that reached the store: past lease_ttl, the others see this
    // node as lost.
    std::chrono::milliseconds since_heartbeat{0};
    std::chrono::microseconds lease_ttl{0};
    // The cluster's nodes by state (active, draining, lost), as the newest heartbeat read them.
    std::map<node_state, std::int64_t> nodes;
};

// What a claim of the scheduler lease came to (docs/cluster.md#the-scheduler).
struct scheduler_claim {
    // The claimer holds the lease now, for `ttl` from the store's now at the claim.
    bool held = false;
    // Held: the epoch every scheduled and backfill run creation carries (new_run::scheduler_epoch).
    // It rises with each change of holder, never with a renewal.
    std::int64_t epoch = 0;
    // Not held: the node that holds it (its id, name and instance info, for lease_owner_gone) and
    // how long its lease still runs by the store's clock.
    std::string holder;
    std::string holder_name;
    std::string holder_info_json;
    std::chrono::microseconds remaining{0};
};

class node_registry {
public:
    virtual ~node_registry() = default;

    // Writes the node's row (started_at and heartbeat_at at the store's now; a row of the same
    // id keeps its started_at) and forgets rows silent for a week (their processes are long
    // gone; a week is far past any lease they held).
    virtual core::result<void> register_node(const node_registration& node) = 0;
    // Sets heartbeat_at to the store's now. False when the row is gone (forgotten after a week
    // of silence): the node registers again.
    virtual core::result<bool> heartbeat_node(std::string_view id) = 0;
    // active, draining or stopped (a clean exit); false when the row is gone.
    virtual core::result<bool> set_node_state(std::string_view id, node_state state) = 0;
    // Every node that is not stopped, by name then id, with its state decided by the store's
    // clock and its running attempts counted from the task leases.
    virtual core::result<std::vector<node_record>> list_nodes() = 0;
    // How many nodes list_nodes would list in each state, without the attempt counts.
    virtual core::result<std::map<node_state, std::int64_t>> count_nodes() = 0;

    // Takes or renews the scheduler lease for `id` until the store's now + `ttl`: held when it
    // is free, expired, already `id`'s (a renewal keeps the epoch), or held by `take_from` (a
    // holder the caller proved gone). A new holder gets the next epoch. Waits for a creation
    // that is checking the lease to commit, so no run of the old epoch commits after it.
    virtual core::result<scheduler_claim> claim_scheduler(std::string_view id,
                                                          std::chrono::microseconds ttl,
                                                          std::string_view take_from = {}) = 0;
    // Gives the lease up when `id` holds it (a clean stop or a drain): any node may take it at
    // once. The epoch stays, so creations of the old one stay fenced. False: `id` did not hold it.
    virtual core::result<bool> release_scheduler(std::string_view id) = 0;
};

}  // namespace sluice::scheduler
