#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sql_session.hpp"
#include "core/error.hpp"

// A script of SQL statements with named `:name` bind parameters, made ready for a session.
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
namespace sluice::connectors {

struct sql_statement {
    std::string text;                 // trimmed, with positional placeholders
    std::vector<std::string> params;  // the bind name of each placeholder, in order (lower case)
    int line = 1;                     // where the statement starts in the script (1-based)
};

// Splits and translates a script; statements holding only comments and blanks are dropped. An
// unterminated quote, comment or dollar-quoted body is a permanent error naming its line.
core::result<std::vector<sql_statement>> parse_sql_script(std::string_view script,
                                                          sql_dialect dialect);

// Named bind values by lower-case name.
using bind_values = std::map<std::string, sql_value>;

// The values of a statement's placeholders, in order; a name without a value is a permanent
// error that names it and lists the names that exist.
core::result<std::vector<sql_value>> bind_statement(const sql_statement& statement,
                                                    const bind_values& values,
                                                    std::size_t statement_number);

}  // namespace sluice::connectors
