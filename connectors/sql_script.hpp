#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "config/sql_text.hpp"
#include "connectors/sql_session.hpp"
#include "core/error.hpp"

// A script of SQL statements with named `:name` bind parameters, made ready for a session: the
// script is read by config/sql_text.hpp (the lexer validation uses too), its values bound here.
namespace sluice::connectors {

using config::parse_sql_script;
using config::sql_statement;

// Named bind values by lower-case name.
using bind_values = std::map<std::string, sql_value>;

// The values of a statement's placeholders, in order; a name without a value is a permanent
// error that names it and lists the names that exist.
core::result<std::vector<sql_value>> bind_statement(const sql_statement& statement,
                                                    const bind_values& values,
                                                    std::size_t statement_number);

}  // namespace sluice::connectors
