#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "connectors/sql_session.hpp"

namespace sluice::connectors {

class bounded_cancel;

// A PostgreSQL connection through libpqxx. Statements run outside any implicit transaction
// (each commits on its own unless the script says BEGIN ... COMMIT).
class postgres_session final : public sql_session {
public:
    // `url` is a libpq connection URI (postgresql://...); connect_timeout is added unless the
    // url has one.
    static core::result<std::unique_ptr<postgres_session>> open(const std::string& url,
                                                                core::duration connect_timeout,
                                                                notice_sink notices = {});
    ~postgres_session() override;

    core::result<void> execute(const std::string& statement,
                               const std::vector<sql_value>& params) override;
    core::result<sql_rows> query(const std::string& statement, const std::vector<sql_value>& params,
                                 std::size_t max_rows) override;
    // A libpq cancel request on a separate socket; the statement then fails with 57014. A
    // server that does not answer it within the connect timeout gets the connection shut down.
    void cancel() override;

private:
    struct connection_holder;  // the pqxx::connection (an alias, so not forward-declarable)

    postgres_session(std::shared_ptr<connection_holder> conn, std::optional<std::string> password,
                     std::chrono::seconds cancel_wait);
    // execute() and query(): the rows go to `out` when it is set.
    core::result<void> run(const std::string& statement, const std::vector<sql_value>& params,
                           sql_rows* out, std::size_t max_rows);

    // Shared with a cancel request that may outlive the session.
    std::shared_ptr<connection_holder> conn_;
    std::unique_ptr<bounded_cancel> cancel_;
    std::optional<std::string> password_;  // only to scrub it from driver messages
    std::atomic<bool> canceled_{false};
};

}  // namespace sluice::connectors
