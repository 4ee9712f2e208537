#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "connectors/connection_url.hpp"
#include "connectors/sql_session.hpp"

struct st_mysql;

namespace sluice::connectors {

class bounded_cancel;

// A MySQL / MariaDB connection through MariaDB Connector/C (utf8mb4, autocommit). Statements
// with bind values use the binary protocol (prepared statements); statements without use the
// text protocol, which accepts every statement kind.
class mysql_session final : public sql_session {
public:
    // `url` is mysql://user:password@host:port/database (?socket=/path for a Unix socket).
    static core::result<std::unique_ptr<mysql_session>> open(const std::string& url,
                                                             core::duration connect_timeout);
    ~mysql_session() override;

    core::result<void> execute(const std::string& statement,
                               const std::vector<sql_value>& params) override;
    core::result<sql_rows> query(const std::string& statement, const std::vector<sql_value>& params,
                                 std::size_t max_rows) override;
    // KILL QUERY <our thread id> from a second, short-lived connection; a server that does not
    // answer it within the connect timeout (at most 5 s) gets the connection shut down.
    void cancel() override;

private:
    mysql_session(st_mysql* conn, connection_url url, std::string shown_url,
                  core::duration connect_timeout);

    // The rows of the statement's (last) result go to `out` when it is set.
    core::result<void> execute_text(const std::string& statement, sql_rows* out,
                                    std::size_t max_rows);
    core::result<void> execute_prepared(const std::string& statement,
                                        const std::vector<sql_value>& params, sql_rows* out,
                                        std::size_t max_rows);

    st_mysql* conn_ = nullptr;
    connection_url url_;     // to open the cancel connection
    std::string shown_url_;  // redacted, for messages
    core::duration connect_timeout_;
    unsigned long thread_id_ = 0;
    std::unique_ptr<bounded_cancel> bounded_;
    std::atomic<bool> canceled_{false};
};

}  // namespace sluice::connectors
