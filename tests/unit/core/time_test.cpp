#include "core/time.hpp"

#include <catch2/catch.hpp>
#include <date/date.h>
#include <date/tz.h>

using namespace std::chrono_literals;
using sluice::core::find_time_zone;
using sluice::core::format_rfc3339;
using sluice::core::format_rfc3339_utc;
using sluice::core::parse_rfc3339;

TEST_CASE("RFC 3339 timestamps parse with Z, offsets and fractions", "[time]") {
    const auto base = date::sys_days{date::year{2026} / 3 / 29} + 1h + 30min;
    CHECK(parse_rfc3339("2026-03-29T01:30:00Z").value() == base);
    CHECK(parse_rfc3339("2026-03-29t01:30:00z").value() == base);
    CHECK(parse_rfc3339("2026-03-29 01:30:00Z").value() == base);
    CHECK(parse_rfc3339("2026-03-29T03:30:00+02:00").value() == base);
    CHECK(parse_rfc3339("2026-03-28T20:30:00-05:00").value() == base);
    CHECK(parse_rfc3339("2026-03-29T01:30:00.999Z").value() == base);
}

TEST_CASE("malformed RFC 3339 timestamps are rejected", "[time]") {
    for (const char* bad : {"", "2026-03-29", "2026-03-29T01:30:00", "2026-02-30T00:00:00Z",
                            "2026-03-29T24:00:00Z", "2026-03-29T01:30Z", "2026-03-29T01:30:00+2",
                            "2026-03-29T01:30:00Zjunk", "2026-13-01T00:00:00Z"}) {
        INFO(bad);
        CHECK_FALSE(parse_rfc3339(bad).has_value());
    }
}

TEST_CASE("timestamps format in UTC and in a zone with its offset", "[time]") {
    const auto t = date::sys_days{date::year{2026} / 3 / 29} + 1h;
    CHECK(format_rfc3339_utc(t) == "2026-03-29T01:00:00Z");
    const auto* berlin = find_time_zone("Europe/Berlin").value();
    CHECK(format_rfc3339(t, berlin) == "2026-03-29T03:00:00+02:00");
    CHECK(format_rfc3339(t - 1s, berlin) == "2026-03-29T01:59:59+01:00");
    CHECK(format_rfc3339(t, nullptr) == "2026-03-29T01:00:00+00:00");
    const auto* kolkata = find_time_zone("Asia/Kolkata").value();
    CHECK(format_rfc3339(t, kolkata) == "2026-03-29T06:30:00+05:30");
    const auto* ny = find_time_zone("America/New_York").value();
    CHECK(format_rfc3339(t, ny) == "2026-03-28T21:00:00-04:00");
}

TEST_CASE("unknown time zones are reported by name", "[time]") {
    auto r = find_time_zone("Mars/Olympus_Mons");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("Mars/Olympus_Mons") != std::string::npos);
}

TEST_CASE("offsets keep following DST rules after 2037", "[time]") {
    // date/tz with the OS tzdb stops at the last stored transition (2037); we follow the TZ rule.
    const auto* berlin = find_time_zone("Europe/Berlin").value();
    const auto summer = date::sys_days{date::year{2040} / 7 / 1} + 12h;
    const auto winter = date::sys_days{date::year{2040} / 1 / 1} + 12h;
    CHECK(format_rfc3339(summer, berlin) == "2040-07-01T14:00:00+02:00");
    CHECK(format_rfc3339(winter, berlin) == "2040-01-01T13:00:00+01:00");
}
