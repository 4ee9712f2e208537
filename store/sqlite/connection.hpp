#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"
#include "store/sqlite/statement.hpp"

struct sqlite3;

namespace sluice::store::sqlite {

// An error of the sqlite3 API as a store error: busy/locked/full/I/O are transient.
core::error classify(sqlite3* db, int rc, std::string_view what);

// One sqlite3 connection (RAII) with a cache of prepared statements keyed by SQL text.
// Not thread-safe: the owner serializes access.
class connection {
public:
    // Opens (creating) the database file in WAL mode with a busy timeout.
    static core::result<std::unique_ptr<connection>> open(const std::string& path);

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    // Runs SQL without parameters or results (BEGIN, COMMIT, PRAGMA). Throws store_failure.
    void exec(const std::string& sql);
    // The cached prepared statement for this SQL text, reset and ready to bind.
    statement& prepare(std::string_view sql);
    // Rows changed by the latest INSERT / UPDATE / DELETE.
    long long changes() const;

private:
    explicit connection(sqlite3* db) : db_(db) {}

    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, statement> statements_;
};

}  // namespace sluice::store::sqlite
