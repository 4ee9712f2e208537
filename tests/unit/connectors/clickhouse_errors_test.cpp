#include "connectors/clickhouse/clickhouse_errors.hpp"

#include <catch2/catch.hpp>

namespace sluice::connectors {

TEST_CASE("clickhouse exception codes are parsed from the server's text",
          "[connectors][clickhouse]") {
    CHECK(parse_clickhouse_code("Code: 241, e.displayText() = DB::Exception: Memory limit (for "
                                "query) exceeded") == 241);
    CHECK(parse_clickhouse_code("1\t2\nCode: 252, e.displayText() = Too many parts") == 252);
    CHECK(!parse_clickhouse_code("Code: x"));
    CHECK(!parse_clickhouse_code("no code here"));
}

TEST_CASE("clickhouse errors: network, timeouts and too many parts are transient",
          "[connectors][clickhouse]") {
    for (int code : {32, 159, 160, 202, 203, 209, 210, 242, 252, 319, 394, 425, 999, 1000}) {
        INFO(code);
        CHECK(classify_clickhouse_code(code) == core::error_class::transient);
    }
    // memory limit, unknown table/column/identifier/database, syntax, parse errors, auth
    for (int code : {241, 60, 16, 47, 81, 62, 27, 6, 72, 192, 193, 516}) {
        INFO(code);
        CHECK(classify_clickhouse_code(code) == core::error_class::permanent);
    }
}

}  // namespace sluice::connectors
