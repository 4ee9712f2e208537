#pragma once

#include <optional>
#include <string_view>

#include "core/error.hpp"

// ClickHouse reports failures as text: "Code: 241, e.displayText() = DB::Exception: Memory limit
// (for query) exceeded ...". The code decides retrying.
namespace sluice::connectors {

// The number after "Code: " in a ClickHouse exception text; nullopt when there is none.
std::optional<int> parse_clickhouse_code(std::string_view text);

// Transient: network and socket errors (209 socket timeout, 210 network error, 32 unexpected
// end of stream), timeouts (159 timeout exceeded, 160 too slow), 394 query canceled, 202 too many
// simultaneous queries, 203 no free connection, 252 too many parts, 242 table is read only,
// 319 unknown status of insert, 425 system error, 999 keeper exception, 1000 POCO exception.
// Everything else is permanent: 241 memory limit, 60 unknown table, 16/47 unknown column or
// identifier, 62 syntax error, 81 unknown database, 27/6/72 parse errors, 192/193/516 auth.
core::error_class classify_clickhouse_code(int code);

}  // namespace sluice::connectors
