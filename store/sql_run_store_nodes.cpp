// Cluster membership (scheduler/node_registry.hpp, docs/cluster.md): a node's row is its
// instance row, its times written and compared by the store's clock only.

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"

namespace sluice::store {

namespace {

// Rows silent this long are forgotten when a node registers: a process that has not written for
// a week is long gone and any lease it held long expired. Until then a lost node stays listed,
// so an operator sees that it was lost (docs/cluster.md#states).
constexpr std::int64_t node_forget_after_us = std::int64_t{7} * 24 * 3600 * 1'000'000;

scheduler::node_state stored_node_state(const std::string& text) {
    auto s = scheduler::parse_node_state(text);
    if (!s || *s == scheduler::node_state::lost) {
        throw store_failure(core::error::permanent("store: a node row holds the state '" + text +
                                                   "', expected active, draining or stopped"));
    }
    return *s;
}

}  // namespace

namespace detail {

// On SQLite (one node on one machine, the engine lock) the machine's clock, at millisecond
// precision.
std::string store_clock_sql(sql_dialect dialect) {
    return dialect == sql_dialect::postgresql
               ? "CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)"
               : "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";
}

// SQLite has no row locks and needs none: a write transaction holds the whole database.
std::string scheduler_fence_sql(sql_dialect dialect) {
    return "SELECT epoch FROM scheduler_lease WHERE name = 'scheduler' AND holder IS NOT NULL "
           "AND expires_at > " +
           store_clock_sql(dialect) + (dialect == sql_dialect::postgresql ? " FOR SHARE" : "");
}

}  // namespace detail

core::result<void> sql_run_store::register_node(const scheduler::node_registration& n) {
    if (n.state != scheduler::node_state::active && n.state != scheduler::node_state::draining) {
        return core::error::permanent("a node registers as active or draining, not " +
                                      std::string(scheduler::to_string(n.state)));
    }
    const std::string now = detail::store_clock_sql(engine_->dialect());
    return transact<void>(tx_mode::write, [&](sql_tx& tx) {
        // A row of the same id is this process registering again (after a week-long freeze, or
        // a reload that changed the configuration): it keeps its started_at.
        tx.exec(
            "INSERT INTO instances (id, info, started_at, heartbeat_at, name, version, "
            "config_hash, state, lease_ttl) VALUES ($1, $2, " +
                now + ", " + now +
                ", $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET info = excluded.info, "
                "heartbeat_at = excluded.heartbeat_at, name = excluded.name, version = "
                "excluded.version, config_hash = excluded.config_hash, state = "
                "excluded.state, lease_ttl = excluded.lease_ttl",
            {n.id, n.info_json, n.name, n.version, n.config_hash,
             std::string(scheduler::to_string(n.state)),
             std::int64_t{std::max<std::int64_t>(0, n.lease_ttl.count())}});
        if (n.sole) {
            tx.exec(
                "UPDATE instances SET state = 'stopped' WHERE id <> $1 AND name <> '' AND "
                "state <> 'stopped'",
                {n.id});
        }
        tx.exec("DELETE FROM instances WHERE heartbeat_at < " + now + " - $1",
                {node_forget_after_us});
    });
}

core::result<bool> sql_run_store::heartbeat_node(std::string_view id) {
    const std::string now = detail::store_clock_sql(engine_->dialect());
    return transact<bool>(tx_mode::write, [&](sql_tx& tx) {
        return tx.exec("UPDATE instances SET heartbeat_at = " + now + " WHERE id = $1", {text(id)})
                   .affected > 0;
    });
}

core::result<bool> sql_run_store::set_node_state(std::string_view id, scheduler::node_state s) {
    if (s == scheduler::node_state::lost) {
        return core::error::permanent("'lost' is decided by the store's clock, never written");
    }
    const std::string now = detail::store_clock_sql(engine_->dialect());
    return transact<bool>(tx_mode::write, [&](sql_tx& tx) {
        // Saying something is a sign of life too: the heartbeat moves with the state.
        return tx.exec("UPDATE instances SET state = $1, heartbeat_at = " + now + " WHERE id = $2",
                       {std::string(scheduler::to_string(s)), text(id)})
                   .affected > 0;
    });
}

core::result<std::vector<scheduler::node_record>> sql_run_store::list_nodes() {
    const std::string now = detail::store_clock_sql(engine_->dialect());
    return transact<std::vector<scheduler::node_record>>(tx_mode::read, [&](sql_tx& tx) {
        std::vector<scheduler::node_record> nodes;
        auto rows = tx.exec(
            "SELECT id, name, version, config_hash, state, started_at, "
            "heartbeat_at, " +
            now +
            " - heartbeat_at, lease_ttl FROM instances WHERE name <> '' AND "
            "state <> 'stopped' ORDER BY name, id");
        for (const sql_row& row : rows.rows) {
            row_reader r(row);
            scheduler::node_record n;
            n.id = r.text();
            n.name = r.text();
            n.version = r.text();
            n.config_hash = r.text();
            n.state = stored_node_state(r.text());
            n.started_at = r.time();
            n.heartbeat_at = r.time();
            // A heartbeat committed after this read's clock was taken reads as a little ahead.
            n.heartbeat_age = std::chrono::microseconds{std::max<std::int64_t>(0, r.integer())};
            n.lease_ttl = std::chrono::microseconds{r.integer()};
            if (n.heartbeat_age > n.lease_ttl) {
                n.state = scheduler::node_state::lost;
            }
            nodes.push_back(std::move(n));
        }
        if (nodes.empty()) {
            return nodes;
        }
        auto lease = tx.exec(
            "SELECT holder FROM scheduler_lease WHERE name = 'scheduler' AND "
            "holder IS NOT NULL AND expires_at > " +
            now);
        if (!lease.rows.empty()) {
            const std::string holder = row_reader(lease.rows.front()).text();
            for (scheduler::node_record& n : nodes) {
                n.scheduler = n.id == holder;
            }
        }
        // Running attempts by lease owner, among the runs still queued or running (no index on
        // task state keeps state changes in place; reconciliation reads the same way).
        std::map<std::string, std::int64_t, std::less<>> running;
        auto counts = tx.exec(
            "SELECT lease_owner, COUNT(*) FROM task_instances WHERE state = 'running' AND "
            "lease_owner IS NOT NULL AND run_id IN (SELECT id FROM runs WHERE state IN "
            "('queued', 'running')) GROUP BY lease_owner");
        for (const sql_row& row : counts.rows) {
            row_reader r(row);
            std::string owner = r.text();
            running[std::move(owner)] = r.integer();
        }
        for (scheduler::node_record& n : nodes) {
            if (auto it = running.find(n.id); it != running.end()) {
                n.running_attempts = it->second;
            }
        }
        return nodes;
    });
}

core::result<std::map<scheduler::node_state, std::int64_t>> sql_run_store::count_nodes() {
    const std::string now = detail::store_clock_sql(engine_->dialect());
    return transact<std::map<scheduler::node_state, std::int64_t>>(tx_mode::read, [&](sql_tx& tx) {
        std::map<scheduler::node_state, std::int64_t> out;
        auto rows = tx.exec("SELECT state, CASE WHEN " + now +
                            " - heartbeat_at > lease_ttl THEN 1 ELSE 0 END, COUNT(*) FROM "
                            "instances WHERE name <> '' AND state <> 'stopped' GROUP BY 1, 2");
        for (const sql_row& row : rows.rows) {
            row_reader r(row);
            const scheduler::node_state said = stored_node_state(r.text());
            const bool lost = r.integer() != 0;
            out[lost ? scheduler::node_state::lost : said] += r.integer();
        }
        return out;
    });
}

core::result<scheduler::scheduler_claim> sql_run_store::claim_scheduler(
    std::string_view id, std::chrono::microseconds ttl, std::string_view take_from) {
    const std::string now = detail::store_clock_sql(engine_->dialect());
    const bool postgres = engine_->dialect() == sql_dialect::postgresql;
    return transact<scheduler::scheduler_claim>(tx_mode::write, [&](sql_tx& tx) {
        // FOR UPDATE waits for the creations holding the row FOR SHARE (scheduler_fence_sql):
        // once the epoch moves, no creation of the old one can still commit.
        auto rows = tx.exec(
            "SELECT l.holder, l.epoch, l.expires_at - " + now +
            ", COALESCE(i.name, ''), COALESCE(i.info, '{}') FROM scheduler_lease l LEFT JOIN "
            "instances i ON i.id = l.holder WHERE l.name = 'scheduler'" +
            (postgres ? " FOR UPDATE OF l" : ""));
        if (rows.rows.empty()) {
            throw store_failure(core::error::permanent(
                "store: the scheduler lease row is missing (migration 12 writes it)"));
        }
        row_reader r(rows.rows.front());
        const std::optional<std::string> holder = r.opt_text();
        const std::int64_t epoch = r.integer();
        const std::int64_t remaining = r.integer();
        scheduler::scheduler_claim out;
        const bool ours = holder && *holder == id;
        const bool free = !holder || remaining <= 0 || (!take_from.empty() && *holder == take_from);
        if (!ours && !free) {
            out.holder = *holder;
            out.holder_name = r.text();
            out.holder_info_json = r.text();
            out.remaining = std::chrono::microseconds{remaining};
            return out;
        }
        out.held = true;
        out.epoch = ours ? epoch : epoch + 1;
        tx.exec("UPDATE scheduler_lease SET holder = $1, epoch = $2, expires_at = " + now +
                    " + $3" + (ours ? std::string() : ", acquired_at = " + now) +
                    " WHERE name = 'scheduler'",
                {text(id), out.epoch, std::int64_t{std::max<std::int64_t>(0, ttl.count())}});
        return out;
    });
}

core::result<bool> sql_run_store::release_scheduler(std::string_view id) {
    return transact<bool>(tx_mode::write, [&](sql_tx& tx) {
        return tx.exec(
                     "UPDATE scheduler_lease SET holder = NULL, expires_at = 0 WHERE name = "
                     "'scheduler' AND holder = $1",
                     {text(id)})
                   .affected > 0;
    });
}

}  // namespace sluice::store
