#include "core/duration.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sluice::core::format_duration;
using sluice::core::parse_duration;

TEST_CASE("durations parse every documented unit", "[duration]") {
    CHECK(parse_duration("500ms").value() == 500ms);
    CHECK(parse_duration("90s").value() == 90s);
    CHECK(parse_duration("15m").value() == 15min);
    CHECK(parse_duration("2h").value() == 2h);
    CHECK(parse_duration("1d").value() == 24h);
    CHECK(parse_duration("1h30m").value() == 90min);
    CHECK(parse_duration("1d2h3m4s5ms").value() == 24h + 2h + 3min + 4s + 5ms);
    CHECK(parse_duration("0s").value() == 0ms);
}

TEST_CASE("malformed durations are rejected with the expected grammar", "[duration]") {
    for (const char* bad :
         {"", "30", "m", "5x", "1.5h", "-5s", "5 m", "1m1h", "1h1h", "s5", "99999999999999999d"}) {
        INFO(bad);
        auto r = parse_duration(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK_FALSE(r.error().message.empty());
    }
    CHECK(parse_duration("30").error().message.find("500ms, 90s, 15m, 2h, 1d") !=
          std::string::npos);
}

TEST_CASE("durations format in their shortest exact form and round-trip", "[duration]") {
    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(0ms) == "0s");
    CHECK(format_duration(1500ms) == "1s500ms");
    CHECK(format_duration(48h) == "2d");
    for (const char* text : {"1d", "2h", "15m", "90s", "500ms", "1d1ms"}) {
        auto d = parse_duration(text).value();
        CHECK(parse_duration(format_duration(d)).value() == d);
    }
}
