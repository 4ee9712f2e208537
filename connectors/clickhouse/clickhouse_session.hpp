#pragma once

#include <atomic>
#include <memory>

#include "connectors/sql_session.hpp"

namespace sluice::connectors {

namespace clickhouse_detail {
class ch_link;
}

// A ClickHouse connection over its HTTP interface (one statement per request, each with its own
// query_id). ClickHouse 18.16 has no server-side query parameters, so the values of '?'
// placeholders are spliced in client-side, each as a string literal in single quotes with
// backslash and quote escaped per ClickHouse's string literal rules ('O\'Brien', 'C:\\dir');
// NULL stays the keyword NULL. The server casts a string literal where the statement's context
// needs another type (toDate(?), or a comparison with a typed column). Errors are classified by
// the ClickHouse exception code (clickhouse_errors.hpp).
class clickhouse_session final : public sql_session {
public:
    // Checks the server answers (SELECT 1) with the connection's credentials and database.
    static core::result<std::unique_ptr<clickhouse_session>> open(
        const config::connection_spec& spec);
    ~clickhouse_session() override;

    core::result<void> execute(const std::string& statement,
                               const std::vector<sql_value>& params) override;
    core::result<sql_rows> query(const std::string& statement, const std::vector<sql_value>& params,
                                 std::size_t max_rows) override;
    // KILL QUERY WHERE query_id = '<the statement's id>' from a second connection.
    void cancel() override;

private:
    explicit clickhouse_session(std::unique_ptr<clickhouse_detail::ch_link> link);

    std::unique_ptr<clickhouse_detail::ch_link> link_;
    std::atomic<bool> canceled_{false};
};

// `statement` with each '?' placeholder outside quotes and comments replaced by the escaped
// literal of the next value (or NULL); a count that does not match is a permanent error.
core::result<std::string> splice_clickhouse_params(const std::string& statement,
                                                   const std::vector<sql_value>& params);

}  // namespace sluice::connectors
