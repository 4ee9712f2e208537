#pragma once

// The seam between the store's SQL (written once, in sql_run_store) and a database engine.
// Statements use $1, $2, ... placeholders, which SQLite and PostgreSQL both accept; values and
// rows travel as text so both engines share one row mapping.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace sluice::store {

// A statement parameter. Booleans travel as 0/1 (PostgreSQL's boolean input accepts both).
using sql_value = std::variant<std::nullptr_t, std::int64_t, std::string>;

using sql_row = std::vector<std::optional<std::string>>;

struct sql_result {
    std::vector<sql_row> rows;
    std::int64_t affected = 0;  // rows changed by INSERT / UPDATE / DELETE
};

// Thrown inside a transaction body and caught by sql_engine::transact, which turns it into the
// result of the store call; it never leaves the store.
class store_failure : public std::runtime_error {
public:
    explicit store_failure(core::error e) : std::runtime_error(e.message), error_(std::move(e)) {}
    const core::error& err() const noexcept { return error_; }

private:
    core::error error_;
};

// A statement of a batch: its SQL (which outlives the batch) and parameters.
struct sql_statement {
    std::string_view sql;
    std::vector<sql_value> params;
    // False for one-off shapes (a multi-row INSERT sized to its batch): not worth preparing.
    bool prepare = true;
};

// One open transaction. exec throws store_failure (or a driver exception the engine classifies).
class sql_tx {
public:
    virtual ~sql_tx() = default;
    virtual sql_result exec(std::string_view sql, std::span<const sql_value> params) = 0;

    // Runs the statements in order and returns each one's affected-row count. An engine with a
    // network round trip per statement overrides this to send the whole batch at once (the
    // group-commit hot path: hundreds of fenced UPDATEs per transaction).
    virtual std::vector<std::int64_t> exec_batch(std::span<const sql_statement> statements) {
        std::vector<std::int64_t> affected;
        affected.reserve(statements.size());
        for (const sql_statement& s : statements) {
            affected.push_back(exec(s.sql, s.params).affected);
        }
        return affected;
    }

    sql_result exec(std::string_view sql, std::initializer_list<sql_value> params = {}) {
        return exec(sql, std::span<const sql_value>(params.begin(), params.size()));
    }
};

enum class sql_dialect { sqlite, postgresql };
// `schema`: a migration's write, not bounded by the PostgreSQL store's timeout (an index build on
// a large table may take minutes).
enum class tx_mode { read, write, schema };

class sql_engine {
public:
    virtual ~sql_engine() = default;
    virtual sql_dialect dialect() const = 0;
    // Runs body in one transaction and commits it; on any failure rolls back and returns the
    // error classified transient or permanent. Safe to call from several threads.
    virtual core::result<void> transact(tx_mode mode, const std::function<void(sql_tx&)>& body) = 0;

    // Runs the statements in a write transaction of their own and returns each one's result
    // (affected rows, and the rows of a statement that returns any: RETURNING) (the
    // group-commit hot path: nothing decided between statements). An engine with a network
    // round trip may send the whole transaction at once.
    virtual core::result<std::vector<sql_result>> transact_batch(
        std::span<const sql_statement> statements) {
        std::vector<sql_result> results;
        auto done = transact(tx_mode::write, [&](sql_tx& tx) {
            results.reserve(statements.size());
            for (const sql_statement& s : statements) {
                results.push_back(tx.exec(s.sql, s.params));
            }
        });
        if (!done) {
            return done.error();
        }
        return results;
    }
};

}  // namespace sluice::store
