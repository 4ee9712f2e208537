#include "store/sqlite/connection.hpp"

#include <sqlite3.h>

#include "store/sql/sql_engine.hpp"

namespace sluice::store::sqlite {

namespace {
// How long a write waits for another process holding the database lock before failing
// (transient). One process has one writer connection, so this only covers foreign writers.
constexpr int busy_timeout_ms = 5000;
}  // namespace

core::error classify(sqlite3* db, int rc, std::string_view what) {
    std::string message = "sqlite: ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    message += " (in: ";
    message += what.substr(0, 120);
    message += ")";
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_PROTOCOL:
            return core::error::transient(std::move(message));
        default:
            return core::error::permanent(std::move(message));
    }
}

core::result<std::unique_ptr<connection>> connection::open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        core::error e = classify(db, rc, "open " + path);
        sqlite3_close(db);
        return e;
    }
    std::unique_ptr<connection> conn(new connection(db));
    sqlite3_busy_timeout(db, busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    try {
        conn->exec("PRAGMA journal_mode=WAL");
        // WAL + NORMAL is durable against process crashes (kill -9); a power loss may roll back
        // the newest commits, never corrupt the file.
        conn->exec("PRAGMA synchronous=NORMAL");
        conn->exec("PRAGMA foreign_keys=ON");
    } catch (const store_failure& f) {
        return f.err();
    }
    return conn;
}

connection::~connection() {
    statements_.clear();  // finalize before closing
    sqlite3_close(db_);
}

void connection::exec(const std::string& sql) {
    char* errmsg = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &errmsg);
    sqlite3_free(errmsg);
    if (rc != SQLITE_OK) {
        throw store_failure(classify(db_, rc, sql));
    }
}

statement& connection::prepare(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) {
        it->second.reset();
        return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        throw store_failure(classify(db_, rc, sql));
    }
    return statements_.emplace(std::string(sql), statement(stmt)).first->second;
}

long long connection::changes() const {
    return sqlite3_changes64(db_);
}

}  // namespace sluice::store::sqlite
