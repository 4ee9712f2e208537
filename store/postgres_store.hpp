#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "scheduler/run_store.hpp"
#include "store/sql/sql_engine.hpp"

namespace sluice::store {

namespace postgres {
class connection_pool;
class pipeline_connection;
class socket_watchdog;
}  // namespace postgres

// Transient SQLSTATEs: connection loss (class 08), serialization failure (40001), deadlock
// (40P01), lock not available (55P03), query canceled (57014), server shutting down or starting
// (57P01-57P03), too many connections (53300). Everything else is permanent.
core::error_class classify_sqlstate(std::string_view sqlstate);

// PostgreSQL through libpqxx with a bounded connection pool. Thread-safety: transact() may be
// called from any number of threads; each call holds one pooled connection for its transaction.
class postgres_engine final : public sql_engine {
public:
    // Connections per store; the store writer's group commit keeps the write path to one or two.
    static constexpr std::size_t default_pool_size = 8;

    // `url` is a libpq connection URL (postgresql:// or postgres://); the password may come from
    // the URL or PGPASSWORD. Connects once to report a bad URL or an unreachable server early.
    // Every operation but schema changes (tx_mode::schema) is bounded by `timeout`
    // (postgres/socket_watchdog.hpp).
    static core::result<std::unique_ptr<postgres_engine>> open(
        std::string_view url, std::size_t pool_size = default_pool_size,
        std::chrono::milliseconds timeout = default_timeout);
    static constexpr std::chrono::milliseconds default_timeout{30'000};
    ~postgres_engine() override;

    sql_dialect dialect() const override { return sql_dialect::postgresql; }
    core::result<void> transact(tx_mode mode, const std::function<void(sql_tx&)>& body) override;
    // The whole transaction in one round trip on a connection of its own (libpq pipeline mode,
    // statements prepared once): the group-commit hot path. Callers are serialized.
    core::result<std::vector<sql_result>> transact_batch(
        std::span<const sql_statement> statements) override;

private:
    postgres_engine(std::unique_ptr<postgres::connection_pool> pool, std::string conninfo,
                    std::unique_ptr<postgres::socket_watchdog> watchdog);

    // Before pool_ and batch_conn_: destroyed after them, it never outlives what it watches.
    std::unique_ptr<postgres::socket_watchdog> watchdog_;
    std::unique_ptr<postgres::connection_pool> pool_;
    const std::string conninfo_;
    std::mutex batch_mutex_;
    std::unique_ptr<postgres::pipeline_connection> batch_conn_;  // guarded by batch_mutex_
};

// Opens the PostgreSQL store at a postgresql:// URL (not migrated yet: call migrate()).
core::result<std::unique_ptr<scheduler::run_store>> open_postgres_store(
    std::string_view url, std::size_t pool_size = postgres_engine::default_pool_size,
    std::chrono::milliseconds timeout = postgres_engine::default_timeout);

}  // namespace sluice::store
