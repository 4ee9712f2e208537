#pragma once

// Turns a batch of scheduler transitions into the SQL statements that apply it (the group-commit
// hot path). Pairs and triples the engine submits for every attempt (ready + lease + start,
// lease + start, end + release) become one UPDATE each with every fence kept, and the batch's
// events become multi-row INSERTs of a few fixed sizes (each prepared once); one statement per
// transition otherwise, in batch order.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/run_store.hpp"
#include "store/sql/sql_engine.hpp"

namespace sluice::store {

struct compiled_batch {
    std::vector<sql_statement> statements;
    // For each transition of the batch, the statement whose affected-row count is its outcome
    // (unused for events, which always apply).
    std::vector<std::size_t> statement_of;
};

compiled_batch compile_transitions(std::span<const scheduler::transition> batch);

// PostgreSQL draws event ids from a sequence when a row is inserted, not when its transaction
// commits: with two writers (the group-commit connection and an audit append) event 11 could
// become visible before event 10, and a reader tailing the table by id (the event stream,
// docs/api.md#logs-and-events-server-sent-events) would never see 10. Every transaction that
// inserts events takes this transaction-scoped lock before its first insert, so events become
// visible in id order. SQLite needs none: it has one writer at a time.
inline constexpr std::string_view events_order_lock_sql =
    "SELECT pg_advisory_xact_lock(7310593858010301537)";

// True when the batch holds an event (it then needs events_order_lock_sql on PostgreSQL).
bool has_events(std::span<const scheduler::transition> batch);

}  // namespace sluice::store
