#pragma once

#include <atomic>
#include <filesystem>
#include <memory>

#include "connectors/sql_session.hpp"

struct sqlite3;

namespace sluice::connectors {

// A SQLite database file (created when missing; its directory must exist). A busy database is
// waited for up to the busy timeout, then reported as a transient error.
class sqlite_session final : public sql_session {
public:
    static core::result<std::unique_ptr<sqlite_session>> open(const std::filesystem::path& path,
                                                              core::duration busy_timeout);
    ~sqlite_session() override;

    core::result<void> execute(const std::string& statement,
                               const std::vector<sql_value>& params) override;
    core::result<sql_rows> query(const std::string& statement, const std::vector<sql_value>& params,
                                 std::size_t max_rows) override;
    // sqlite3_interrupt: safe from another thread while the handle is open.
    void cancel() override;

private:
    explicit sqlite_session(sqlite3* db) : db_(db) {}
    // execute() and query(): the rows go to `out` when it is set.
    core::result<void> run(const std::string& statement, const std::vector<sql_value>& params,
                           sql_rows* out, std::size_t max_rows);

    sqlite3* db_ = nullptr;
    std::atomic<bool> canceled_{false};
};

}  // namespace sluice::connectors
