#include "connectors/document_rows.hpp"

#include <catch2/catch.hpp>

using namespace sluice;

namespace {

std::string nested(std::size_t levels) {
    return std::string(levels, '[') + "1" + std::string(levels, ']');
}

}  // namespace

// Copying or dumping a JSON value recurses once per level: 100,000 levels from an HTTP source,
// a JSON-lines file or a json cell crashed the daemon (stack overflow).
TEST_CASE("documents nested 100,000 deep are refused, 64 levels are read", "[connectors][json]") {
    const auto deep = connectors::parse_document(nested(100'000));
    REQUIRE_FALSE(deep.has_value());
    CHECK_THAT(deep.error().message, Catch::Contains("deeper than 64 levels"));
    const auto limit = connectors::parse_document(nested(64));
    REQUIRE(limit.has_value());
    CHECK(limit->dump() == nested(64));
    CHECK_FALSE(connectors::parse_document(nested(65)).has_value());
    // Brackets inside strings are text, not nesting.
    CHECK(
        connectors::parse_document(R"({"a":")" + std::string(1000, '[') + R"(\"x"})").has_value());
    CHECK_FALSE(connectors::parse_document("{not json").has_value());
}

TEST_CASE("a json cell nested too deep stays text", "[connectors][json]") {
    const std::string cell = nested(100'000);
    const auto value = connectors::json_value_of(cell, connectors::column_type::json);
    REQUIRE(value.is_string());
    CHECK(value.get<std::string>().size() == cell.size());
    CHECK(value.dump().size() == cell.size() + 2);
    CHECK(connectors::json_value_of(R"({"a":[1,2]})", connectors::column_type::json).is_object());
}
