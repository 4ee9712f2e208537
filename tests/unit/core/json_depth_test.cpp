#include "core/json_depth.hpp"

#include <catch2/catch.hpp>

#include "core/range_bound.hpp"
#include "core/time.hpp"

using namespace sluice;

TEST_CASE("json depth: brackets count, strings and escapes do not", "[core][json]") {
    CHECK(core::json_depth_within("{}", 1));
    CHECK_FALSE(core::json_depth_within("{\"a\":[]}", 1));
    CHECK(core::json_depth_within("{\"a\":[]}", 2));
    CHECK(core::json_depth_within(R"({"a":"[[[[\"[[["})", 1));
    CHECK(core::json_depth_within("[1][2][3]", 1));
    CHECK_FALSE(core::json_depth_within(std::string(100'000, '[')));
    CHECK(core::json_depth_within(std::string(64, '[') + std::string(64, ']')));
    CHECK_FALSE(core::json_depth_within(std::string(65, '{')));
}

TEST_CASE("a range bound is an instant or a date at midnight in the zone", "[core][time]") {
    const auto berlin = core::find_time_zone("Europe/Berlin");
    REQUIRE(berlin.has_value());
    const auto winter = core::parse_instant_or_date("2026-12-06", *berlin);
    REQUIRE(winter.has_value());
    CHECK(core::format_rfc3339_utc(*winter) == "2026-12-05T23:00:00Z");
    const auto summer = core::parse_instant_or_date("2026-07-01", *berlin);
    REQUIRE(summer.has_value());
    CHECK(core::format_rfc3339_utc(*summer) == "2026-06-30T22:00:00Z");
    CHECK(core::format_rfc3339_utc(*core::parse_instant_or_date("2026-12-06", nullptr)) ==
          "2026-12-06T00:00:00Z");
    CHECK(core::format_rfc3339_utc(*core::parse_instant_or_date("2026-12-06T05:00:00Z", *berlin)) ==
          "2026-12-06T05:00:00Z");
    // Santiago skips midnight when DST starts (2026-09-06 00:00 -> 01:00): the first instant
    // after the gap.
    const auto santiago = core::find_time_zone("America/Santiago");
    REQUIRE(santiago.has_value());
    const auto skipped = core::parse_instant_or_date("2026-09-06", *santiago);
    REQUIRE(skipped.has_value());
    CHECK(core::format_rfc3339_utc(*skipped) == "2026-09-06T04:00:00Z");
    CHECK_FALSE(core::parse_instant_or_date("2026-02-30", *berlin).has_value());
    CHECK_FALSE(core::parse_instant_or_date("2026-12-6", *berlin).has_value());
    CHECK_FALSE(core::parse_instant_or_date("yesterday", *berlin).has_value());
}
