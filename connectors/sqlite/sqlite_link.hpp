#pragma once

// Internal to the SQLite connector (sqlite_connector.cpp: the source, sqlite_sink.cpp: the
// sink): one database file's connection and the type mapping both sides share.

#include <memory>
#include <string>

#include <sqlite3.h>

#include "config/spec.hpp"
#include "connectors/column_type.hpp"
#include "connectors/select_statement.hpp"
#include "connectors/sql_errors.hpp"
#include "core/error.hpp"

namespace sluice::connectors::sqlite_detail {

// Standard double-quoted identifiers and literals.
const sql_quoting& sqlite_quoting();
// The portable column of a declared SQLite type (see sqlite_link.cpp).
column column_of(const char* name, const char* declared);
// The declared type a sink creates for a portable column.
std::string sqlite_type_of(const column& c);
// The columns of a prepared statement's result.
schema schema_of(sqlite3_stmt* stmt);

class sqlite_link {
public:
    ~sqlite_link() { sqlite3_close_v2(db_); }

    // A source opens an existing file only; a sink creates it when missing.
    static core::result<std::unique_ptr<sqlite_link>> open(const config::connection_spec& spec,
                                                           bool create) {
        sqlite3* db = nullptr;
        const int rc = sqlite3_open_v2(
            spec.local_path.c_str(), &db,
            SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX,
            nullptr);
        auto link = std::unique_ptr<sqlite_link>(new sqlite_link(db, spec.name));
        if (rc != SQLITE_OK) {
            return link->failure(rc,
                                 "cannot open SQLite database '" + spec.local_path.string() + "'");
        }
        sqlite3_busy_timeout(
            db, static_cast<int>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(spec.connect_timeout)
                        .count()));
        // WAL: a read in progress (a source on the same file) does not block a sink's commit.
        auto wal = link->exec("PRAGMA journal_mode = WAL");
        if (!wal) {
            return wal.error();
        }
        return link;
    }

    sqlite3* db() { return db_; }
    const std::string& name() const { return name_; }

    core::error failure(int rc, const std::string& what) const {
        return core::error{classify_sqlite_code(rc),
                           "connection '" + name_ + "': " + what + ": " +
                               (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc))};
    }

    core::result<sqlite3_stmt*> prepare(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        const int rc =
            sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(stmt);
            return failure(rc, "SQLite rejected the statement");
        }
        return stmt;
    }

    core::result<void> exec(const std::string& sql) {
        char* message = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
        sqlite3_free(message);
        if (rc != SQLITE_OK) {
            return failure(rc, "statement failed");
        }
        return {};
    }

private:
    sqlite_link(sqlite3* db, std::string name) : db_(db), name_(std::move(name)) {}
    sqlite3* db_;
    std::string name_;
};

}  // namespace sluice::connectors::sqlite_detail
