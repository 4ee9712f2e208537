#include "connectors/sqlite/sqlite_session.hpp"

#include <sqlite3.h>

#include "connectors/sql_errors.hpp"

namespace sluice::connectors {

namespace {

core::error sqlite_error(sqlite3* db, int code, const std::string& what) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    return core::error{classify_sqlite_code(code), what + ": " + message};
}

// Finalizes a statement on every path out.
struct statement_guard {
    sqlite3_stmt* stmt = nullptr;
    ~statement_guard() { sqlite3_finalize(stmt); }
};

}  // namespace

core::result<std::unique_ptr<sqlite_session>> sqlite_session::open(
    const std::filesystem::path& path, core::duration busy_timeout) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        auto err = sqlite_error(db, rc, "cannot open SQLite database '" + path.string() + "'");
        sqlite3_close(db);
        return err;
    }
    sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
    return std::unique_ptr<sqlite_session>(new sqlite_session(db));
}

sqlite_session::~sqlite_session() {
    sqlite3_close_v2(db_);
}

core::result<void> sqlite_session::execute(const std::string& statement,
                                           const std::vector<sql_value>& params) {
    return run(statement, params, nullptr, 0);
}

core::result<sql_rows> sqlite_session::query(const std::string& statement,
                                             const std::vector<sql_value>& params,
                                             std::size_t max_rows) {
    sql_rows rows;
    auto done = run(statement, params, &rows, max_rows);
    if (!done) {
        return done.error();
    }
    return rows;
}

core::result<void> sqlite_session::run(const std::string& statement,
                                       const std::vector<sql_value>& params, sql_rows* out,
                                       std::size_t max_rows) {
    if (canceled_.load()) {
        return core::error::transient("canceled before the statement started");
    }
    statement_guard guard;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, statement.c_str(), static_cast<int>(statement.size()),
                                &guard.stmt, &tail);
    if (rc != SQLITE_OK) {
        return sqlite_error(db_, rc, "SQLite rejected the statement");
    }
    if (guard.stmt == nullptr) {
        return {};  // only comments
    }
    if (sqlite3_bind_parameter_count(guard.stmt) != static_cast<int>(params.size())) {
        return core::error::permanent("the statement has " +
                                      std::to_string(sqlite3_bind_parameter_count(guard.stmt)) +
                                      " placeholders but " + std::to_string(params.size()) +
                                      " values are bound (a literal '?' outside quotes?)");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int index = static_cast<int>(i + 1);
        rc = params[i] ? sqlite3_bind_text(guard.stmt, index, params[i]->data(),
                                           static_cast<int>(params[i]->size()), SQLITE_TRANSIENT)
                       : sqlite3_bind_null(guard.stmt, index);
        if (rc != SQLITE_OK) {
            return sqlite_error(db_, rc, "cannot bind parameter " + std::to_string(index));
        }
    }
    const int columns = sqlite3_column_count(guard.stmt);
    if (out != nullptr) {
        for (int c = 0; c < columns; ++c) {
            const char* name = sqlite3_column_name(guard.stmt, c);
            out->columns.emplace_back(name != nullptr ? name : "");
        }
    }
    // Rows past max_rows are stepped through (the statement runs to its end) and dropped.
    while ((rc = sqlite3_step(guard.stmt)) == SQLITE_ROW) {
        if (out == nullptr) {
            continue;
        }
        if (out->rows.size() >= max_rows) {
            out->more = true;
            continue;
        }
        auto& row = out->rows.emplace_back();
        for (int c = 0; c < columns; ++c) {
            if (sqlite3_column_type(guard.stmt, c) == SQLITE_NULL) {
                row.emplace_back();
                continue;
            }
            const auto* text = sqlite3_column_text(guard.stmt, c);
            const int bytes = sqlite3_column_bytes(guard.stmt, c);
            row.emplace_back(
                std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(bytes)));
        }
    }
    if (rc != SQLITE_DONE) {
        return sqlite_error(db_, rc, "SQLite statement failed");
    }
    return {};
}

void sqlite_session::cancel() {
    canceled_.store(true);
    sqlite3_interrupt(db_);
}

}  // namespace sluice::connectors
