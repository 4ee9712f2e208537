#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "config/sql_text.hpp"
#include "core/error.hpp"

namespace sluice::connectors {

// The SQL engines a statement can run on (config/sql_text.hpp reads their text).
using sql_dialect = config::sql_dialect;

// The dialect of a connection type; nullopt for types that are not (yet) SQL sessions.
std::optional<sql_dialect> dialect_of(config::connection_type type);

// One bind value; nullopt binds SQL NULL. Values are text: the server casts them where the
// statement's context asks for another type.
using sql_value = std::optional<std::string>;

// The rows a statement returned, as text (a NULL is nullopt).
struct sql_rows {
    std::vector<std::string> columns;          // empty when the statement returns no rows
    std::vector<std::vector<sql_value>> rows;  // at most the max_rows asked for
    bool more = false;                         // it returned more rows than that
};

// One open connection to a database, used by one thread at a time, except cancel().
// Errors are classified: connection loss, deadlock, serialization failure, lock or statement
// timeout and server shutdown are transient; syntax errors, denied permissions and missing
// objects (and anything unknown) are permanent. Messages never contain the password.
class sql_session {
public:
    virtual ~sql_session() = default;

    // Runs one statement whose placeholders ($1.. for PostgreSQL, ? otherwise) take `params`
    // in order; rows it returns are read and discarded. Refused once cancel() was called.
    // ClickHouse (18.16 has no server-side parameters) gets each value spliced in client-side
    // as a quoted, escaped string literal, never as raw text.
    virtual core::result<void> execute(const std::string& statement,
                                       const std::vector<sql_value>& params) = 0;

    // Runs one statement as execute() does and keeps the column names and the first `max_rows`
    // rows of its result (the rest is read and dropped), each value as the server's text
    // (ClickHouse: TabSeparated text). What a sql task's `outputs` read.
    virtual core::result<sql_rows> query(const std::string& statement,
                                         const std::vector<sql_value>& params,
                                         std::size_t max_rows) = 0;

    // Asks the server to abort the statement in flight (PostgreSQL cancel request, MySQL
    // KILL QUERY from a second connection, sqlite3_interrupt, ClickHouse KILL QUERY by the
    // statement's query_id from a second connection). Thread-safe and callable at any
    // time; a call that races with the start of a statement may miss it, so a caller that must
    // stop keeps calling until execute() returns.
    virtual void cancel() = 0;
};

// Receives messages the server sends besides results (PostgreSQL NOTICE / WARNING), one per
// call, without a trailing newline. Called on the thread running execute().
using notice_sink = std::function<void(std::string)>;

// Connects per the connection's type and url (sqlite: its resolved local_path), waiting at most
// its connect_timeout. Failing to reach the server is transient; a bad url or refused
// credentials are permanent. Server notices go to `notices` (dropped when empty).
core::result<std::unique_ptr<sql_session>> open_sql_session(const config::connection_spec& spec,
                                                            notice_sink notices = {});

}  // namespace sluice::connectors
