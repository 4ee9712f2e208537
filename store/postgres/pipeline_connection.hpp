#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "store/postgres/update_merge.hpp"
#include "store/sql/sql_engine.hpp"

typedef struct pg_conn PGconn;

namespace sluice::store::postgres {

class socket_watchdog;

// A raw libpq connection that runs a batch of statements as one transaction in a single round
// trip (libpq's pipeline mode): the group-commit hot path. The statements are sent with the
// extended protocol and no BEGIN, so they form one implicit transaction that the server commits
// at the pipeline's sync point, or rolls back entirely when one of them fails. A statement
// marked `prepare` is prepared on first use (its Parse rides in the same pipeline) and bound by
// name afterwards: the server does not parse, analyze or plan it again. When no row is updated
// twice in a batch, the executions of each single-row UPDATE go as one UPDATE over arrays of
// their parameters (update_merge.hpp), which saves the server its per-statement executor setup.
//
// Not thread-safe: one caller at a time (postgres_engine serializes them).
class pipeline_connection {
public:
    // `conninfo` is what libpq accepts; `where` prefixes every error message (names the store
    // without its password). Connecting failures are transient.
    // The setup after connecting is bounded by `watchdog` (connecting by connect_timeout).
    static core::result<std::unique_ptr<pipeline_connection>> connect(const std::string& conninfo,
                                                                      std::string where,
                                                                      socket_watchdog& watchdog);
    ~pipeline_connection();
    pipeline_connection(const pipeline_connection&) = delete;
    pipeline_connection& operator=(const pipeline_connection&) = delete;

    // Runs the statements in order and returns each one's affected-row count, and the rows of
    // a statement that returns any (RETURNING; not of merged UPDATEs). An error rolls
    // back the whole batch and is classified by its SQLSTATE; a connection lost before the
    // outcome was read is transient ("commit outcome unknown") and leaves the connection
    // broken().
    core::result<std::vector<sql_result>> run(std::span<const sql_statement> statements);

    // The connection is unusable: drop it and connect again. Also notices, without waiting, a
    // connection the server closed while it was idle (a restart, an idle timeout): nothing was
    // sent on it yet, so connecting again loses nothing.
    bool broken();

    // The connection's socket, for the watchdog around run().
    int socket() const;

private:
    pipeline_connection(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}

    // Sends everything queued, reading input meanwhile so that neither side blocks on a full
    // socket buffer. False when the connection failed.
    bool flush();
    // The next result of the pipeline (nullptr between the results of two commands), waiting
    // for input as needed; sets broken_ when the connection failed.
    struct result_handle;
    bool next_result(result_handle& out);
    core::error lost(const std::string& what);

    // One command of a pipeline: a statement, or several executions of one single-row UPDATE
    // merged into its array form (update_merge.hpp).
    struct merge_form {
        std::string name;  // the prepared array form
        update_shape shape;
    };
    struct command {
        std::vector<std::size_t> members;  // indexes into the batch
        const merge_form* merged = nullptr;
    };
    std::vector<command> plan(std::span<const sql_statement> statements);
    // The array form of an UPDATE, prepared on first use (blocking round trips, once per
    // statement text and connection); nullptr when the statement cannot be merged.
    const merge_form* merge_form_of(const std::string& sql);
    // The statement's shape when it is a single-row UPDATE by id (parsed once per text).
    const update_shape* shape_for(std::string_view sql);

    PGconn* conn_ = nullptr;
    std::string where_;
    bool broken_ = false;
    std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
    std::unordered_map<std::string, std::unique_ptr<merge_form>> merge_forms_;  // null: never
    std::unordered_map<std::string, std::optional<update_shape>> shapes_;
    std::uint64_t next_name_ = 0;
};

}  // namespace sluice::store::postgres
