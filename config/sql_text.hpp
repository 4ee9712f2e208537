#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"
#include "core/error.hpp"

// How Sluice reads the SQL text of a configuration (a sql task's script, a copy source's
// query): one lexer, so that validation finds the `:name` parameters the runtime binds.
//
// Scripts are split on ';' outside quotes, quoted identifiers, comments and (PostgreSQL)
// dollar-quoted bodies, and each statement runs on its own: the drivers' parameterized calls take
// one statement each, and a per-statement error can name the statement. A body with ';' inside
// BEGIN ... END (SQLite triggers, MySQL procedures) is therefore not supported; put such DDL in
// a dollar-quoted PostgreSQL function or run it through a shell task.
//
// `:name` (letters, digits, '_', starting with a letter or '_'; case-insensitive) becomes a
// positional placeholder ($n for PostgreSQL, where repeats of a name share one $n; '?' for MySQL,
// SQLite and ClickHouse) and its value is bound, never spliced into the text as raw SQL
// (ClickHouse 18.16 has no server-side parameters: its session splices each value in as an
// escaped string literal, so a bare '?' in a ClickHouse script is refused). A ':' inside quotes or
// comments, PostgreSQL's '::' casts and MySQL's ':=' are left alone.
namespace sluice::config {

// The SQL engines a statement can run on.
enum class sql_dialect { postgres, mysql, sqlite, clickhouse };

// The dialect of a connection type; nullopt for types that are not SQL databases.
std::optional<sql_dialect> sql_dialect_of(connection_type type);

struct sql_statement {
    std::string text;                 // trimmed, with positional placeholders
    std::vector<std::string> params;  // the bind name of each placeholder, in order (lower case)
    int line = 1;                     // where the statement starts in the script (1-based)
};

// Splits and translates a script; statements holding only comments and blanks are dropped. An
// unterminated quote, comment or dollar-quoted body is a permanent error naming its line.
core::result<std::vector<sql_statement>> parse_sql_script(std::string_view script,
                                                          sql_dialect dialect);

// One `:name` as the lexer met it.
struct sql_placeholder {
    std::string name;        // lower case, without the ':'
    std::size_t offset = 0;  // of the ':' in the text
    std::size_t length = 0;  // ':' and the name
};

// The `:name` parameters of `text`, in order, read as parse_sql_script reads them; a '?' is
// allowed (the values of a copy source query are spliced in, not bound). Errors as
// parse_sql_script's.
core::result<std::vector<sql_placeholder>> find_sql_placeholders(std::string_view text,
                                                                 sql_dialect dialect);

}  // namespace sluice::config
