#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/source.hpp"

namespace sluice::connectors {

// How one SQL dialect spells names and string literals.
struct sql_quoting {
    std::function<std::string(std::string_view)> identifier;  // "a.b" -> "a"."b" per part
    std::function<std::string(std::string_view)> literal;     // 'it''s'
    // Optional: the literal for a cursor value of `column` (ClickHouse compares an Int64 column
    // with a number only, never with a string).
    std::function<std::string(std::string_view column, std::string_view value)> cursor_literal;
};

// Quotes every dot-separated part with `open`/`close`, doubling `close` inside.
std::string quote_dotted(std::string_view name, char open, char close);
// 'text' with single quotes doubled (standard SQL; not for MySQL, which also escapes '\').
std::string quote_standard_literal(std::string_view text);
// E'text' with quotes doubled and backslashes escaped: PostgreSQL reads it the same whether
// standard_conforming_strings is on or off, so a value cannot end the literal early.
std::string quote_escape_literal(std::string_view text);

// SELECT <columns> FROM <table | (query) AS sluice_q> [WHERE <after> AND <where>]
// [ORDER BY ...] [LIMIT n]: the statement a database source runs for `request`.
std::string build_select(const read_request& request, const sql_quoting& q);

// The WHERE clause alone (without the keyword), empty when the request has no predicate.
std::string build_predicate(const read_request& request, const sql_quoting& q);

// The FROM target: the quoted table, or "(query) AS sluice_q".
std::string build_from(const read_request& request, const sql_quoting& q);

}  // namespace sluice::connectors
