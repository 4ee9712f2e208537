// DST behaviour, both directions of a transition, in five zones. The rules (docs/cron.md):
// a fixed-time schedule whose time falls into a gap fires at the instant the gap ends, and once
// (the first occurrence) in a repeated hour; an interval schedule skips times in a gap and fires
// at both occurrences of a repeated time.
//
// Transitions used (2026): America/New_York 03-08 02:00->03:00 and 11-01 02:00->01:00;
// Europe/Berlin 03-29 02:00->03:00 and 10-25 03:00->02:00; Australia/Lord_Howe 10-04
// 02:00->02:30 and 04-05 02:00->01:30; America/Santiago 09-06 00:00->01:00 and 04-05
// 00:00->04-04 23:00; Pacific/Chatham 09-27 02:45->03:45 and 04-05 03:45->02:45.

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <date/tz.h>

#include "scheduler/cron/cron_expression.hpp"
#include "tests/unit/cron/cron_test_support.hpp"

using sluice::scheduler::testing::fires;
using strings = std::vector<std::string>;

TEST_CASE("America/New_York spring forward", "[cron][dst]") {
    const char* ny = "America/New_York";
    CHECK(fires("30 2 * * *", ny, "2026-03-07T12:00:00Z", 3) ==
          strings{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00",
                  "2026-03-10T02:30:00-04:00"});
    CHECK(fires("0 2 * * *", ny, "2026-03-07T12:00:00Z", 2) ==
          strings{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"});
    CHECK(fires("59 2 * * *", ny, "2026-03-07T12:00:00Z", 1) ==
          strings{"2026-03-08T03:00:00-04:00"});
    CHECK(fires("0 3 * * *", ny, "2026-03-07T12:00:00Z", 2) ==
          strings{"2026-03-08T03:00:00-04:00", "2026-03-09T03:00:00-04:00"});
    CHECK(fires("30 30 2 * * *", ny, "2026-03-07T12:00:00Z", 1) ==
          strings{"2026-03-08T03:00:00-04:00"});
    // Starting exactly at the shifted fire time does not repeat it.
    CHECK(fires("30 2 * * *", ny, "2026-03-08T07:00:00Z", 1) ==
          strings{"2026-03-09T02:30:00-04:00"});
    // Interval schedules skip the missing hour.
    CHECK(fires("*/30 * * * *", ny, "2026-03-08T06:00:00Z", 3) ==
          strings{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00",
                  "2026-03-08T03:30:00-04:00"});
    CHECK(fires("30 2,3 * * *", ny, "2026-03-07T12:00:00Z", 2) ==
          strings{"2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"});
    CHECK(fires("0 1-3 * * *", ny, "2026-03-08T05:00:00Z", 3) ==
          strings{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                  "2026-03-09T01:00:00-04:00"});
    CHECK(fires("* 2 * * *", ny, "2026-03-07T12:00:00Z", 1) ==
          strings{"2026-03-09T02:00:00-04:00"});
}

TEST_CASE("America/New_York fall back", "[cron][dst]") {
    const char* ny = "America/New_York";
    CHECK(fires("30 1 * * *", ny, "2026-11-01T04:00:00Z", 2) ==
          strings{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"});
    // From inside the first pass the fixed job does not run again in the second.
    CHECK(fires("30 1 * * *", ny, "2026-11-01T05:45:00Z", 1) ==
          strings{"2026-11-02T01:30:00-05:00"});
    CHECK(fires("30 1 * * *", ny, "2026-11-01T06:10:00Z", 1) ==
          strings{"2026-11-02T01:30:00-05:00"});
    CHECK(fires("*/30 1 * * *", ny, "2026-11-01T04:00:00Z", 5) ==
          strings{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00",
                  "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00",
                  "2026-11-02T01:00:00-05:00"});
    CHECK(fires("0 * * * *", ny, "2026-11-01T04:00:00Z", 3) ==
          strings{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00",
                  "2026-11-01T02:00:00-05:00"});
    // Starting inside the second pass.
    CHECK(fires("*/30 1 * * *", ny, "2026-11-01T06:10:00Z", 2) ==
          strings{"2026-11-01T01:30:00-05:00", "2026-11-02T01:00:00-05:00"});
    // Starting in the first pass, after the last first-pass fire time.
    CHECK(fires("0 0 1,2 * * *", ny, "2026-11-01T05:30:00Z", 2) ==
          strings{"2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"});
    CHECK(fires("0 2 * * *", ny, "2026-11-01T04:00:00Z", 1) ==
          strings{"2026-11-01T02:00:00-05:00"});
}

TEST_CASE("Europe/Berlin both transitions", "[cron][dst]") {
    const char* berlin = "Europe/Berlin";
    CHECK(fires("30 2 * * *", berlin, "2026-03-28T12:00:00Z", 2) ==
          strings{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"});
    CHECK(fires("0,30 2 * * *", berlin, "2026-03-28T12:00:00Z", 1) ==
          strings{"2026-03-30T02:00:00+02:00"});
    CHECK(fires("*/15 * * * *", berlin, "2026-03-29T00:30:00Z", 3) ==
          strings{"2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00",
                  "2026-03-29T03:15:00+02:00"});
    CHECK(fires("30 2 * * *", berlin, "2026-10-24T12:00:00Z", 2) ==
          strings{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"});
    CHECK(fires("30 2 * * *", berlin, "2026-10-25T00:45:00Z", 1) ==
          strings{"2026-10-26T02:30:00+01:00"});
    CHECK(fires("*/30 2 * * *", berlin, "2026-10-24T12:00:00Z", 5) ==
          strings{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                  "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00",
                  "2026-10-26T02:00:00+01:00"});
    CHECK(fires("0 0 2 * * *", berlin, "2026-10-24T12:00:00Z", 2) ==
          strings{"2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"});
    CHECK(fires("0 2 * * *", berlin, "2026-10-24T12:00:00Z", 2) ==
          strings{"2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"});
    // Last day of month at 02:30 when that day is the spring-forward day (2026-03-29 is not the
    // last day; 2026-03-31 is).
    CHECK(fires("30 2 L * *", berlin, "2026-03-01T00:00:00Z", 1) ==
          strings{"2026-03-31T02:30:00+02:00"});
    // Last Sunday of March at 02:30 is exactly the transition day.
    CHECK(fires("30 2 * 3 SUNL", berlin, "2026-03-01T00:00:00Z", 2) ==
          strings{"2026-03-29T03:00:00+02:00", "2027-03-28T03:00:00+02:00"});
}

TEST_CASE("Australia/Lord_Howe shifts by 30 minutes", "[cron][dst]") {
    const char* lh = "Australia/Lord_Howe";
    CHECK(fires("15 2 * * *", lh, "2026-10-03T00:00:00Z", 2) ==
          strings{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"});
    CHECK(fires("0 2 * * *", lh, "2026-10-03T00:00:00Z", 1) ==
          strings{"2026-10-04T02:30:00+11:00"});
    CHECK(fires("30 2 * * *", lh, "2026-10-03T00:00:00Z", 1) ==
          strings{"2026-10-04T02:30:00+11:00"});
    CHECK(fires("30 15 2 * * *", lh, "2026-10-03T00:00:00Z", 1) ==
          strings{"2026-10-04T02:30:00+11:00"});
    CHECK(fires("*/15 2 * * *", lh, "2026-10-03T12:00:00Z", 3) ==
          strings{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00",
                  "2026-10-05T02:00:00+11:00"});
    CHECK(fires("45 1 * * *", lh, "2026-04-04T12:00:00Z", 2) ==
          strings{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"});
    CHECK(fires("*/15 1 * * *", lh, "2026-04-04T12:00:00Z", 7) ==
          strings{"2026-04-05T01:00:00+11:00", "2026-04-05T01:15:00+11:00",
                  "2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00",
                  "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30",
                  "2026-04-06T01:00:00+10:30"});
    CHECK(fires("15 1 * * *", lh, "2026-04-04T12:00:00Z", 2) ==
          strings{"2026-04-05T01:15:00+11:00", "2026-04-06T01:15:00+10:30"});
}

TEST_CASE("America/Santiago changes at midnight", "[cron][dst]") {
    const char* scl = "America/Santiago";
    CHECK(fires("30 0 * * *", scl, "2026-09-05T12:00:00Z", 2) ==
          strings{"2026-09-06T01:00:00-03:00", "2026-09-07T00:30:00-03:00"});
    CHECK(fires("0 0 * * *", scl, "2026-09-05T12:00:00Z", 2) ==
          strings{"2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"});
    CHECK(fires("@daily", scl, "2026-09-05T12:00:00Z", 1) == strings{"2026-09-06T01:00:00-03:00"});
    CHECK(fires("*/30 0 * * *", scl, "2026-09-05T12:00:00Z", 2) ==
          strings{"2026-09-07T00:00:00-03:00", "2026-09-07T00:30:00-03:00"});
    CHECK(fires("30 23 * * *", scl, "2026-04-04T12:00:00Z", 2) ==
          strings{"2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"});
    CHECK(fires("*/30 23 * * *", scl, "2026-04-04T12:00:00Z", 5) ==
          strings{"2026-04-04T23:00:00-03:00", "2026-04-04T23:30:00-03:00",
                  "2026-04-04T23:00:00-04:00", "2026-04-04T23:30:00-04:00",
                  "2026-04-05T23:00:00-04:00"});
    CHECK(fires("0 0 * * *", scl, "2026-04-04T12:00:00Z", 2) ==
          strings{"2026-04-05T00:00:00-04:00", "2026-04-06T00:00:00-04:00"});
}

TEST_CASE("Pacific/Chatham changes at 02:45 / 03:45", "[cron][dst]") {
    const char* chat = "Pacific/Chatham";
    CHECK(fires("0 3 * * *", chat, "2026-09-26T00:00:00Z", 2) ==
          strings{"2026-09-27T03:45:00+13:45", "2026-09-28T03:00:00+13:45"});
    CHECK(fires("30 3 * * *", chat, "2026-09-26T00:00:00Z", 1) ==
          strings{"2026-09-27T03:45:00+13:45"});
    CHECK(fires("45 3 * * *", chat, "2026-09-26T00:00:00Z", 1) ==
          strings{"2026-09-27T03:45:00+13:45"});
    CHECK(fires("*/30 3 * * *", chat, "2026-09-26T00:00:00Z", 1) ==
          strings{"2026-09-28T03:00:00+13:45"});
    CHECK(fires("0 3 * * *", chat, "2026-04-04T00:00:00Z", 2) ==
          strings{"2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45"});
    CHECK(fires("*/30 3 * * *", chat, "2026-04-04T00:00:00Z", 5) ==
          strings{"2026-04-05T03:00:00+13:45", "2026-04-05T03:30:00+13:45",
                  "2026-04-05T03:00:00+12:45", "2026-04-05T03:30:00+12:45",
                  "2026-04-06T03:00:00+12:45"});
}

TEST_CASE("DST keeps happening after 2037", "[cron][dst]") {
    // Debian's TZif files store transitions up to 2037; later ones come from the POSIX rule.
    CHECK(fires("30 2 * * *", "Europe/Berlin", "2039-03-26T12:00:00Z", 2) ==
          strings{"2039-03-27T03:00:00+02:00", "2039-03-28T02:30:00+02:00"});
    CHECK(fires("30 2 * * *", "America/New_York", "2040-03-10T12:00:00Z", 1) ==
          strings{"2040-03-11T03:00:00-04:00"});
    CHECK(fires("*/30 1 * * *", "America/New_York", "2045-11-05T04:00:00Z", 4) ==
          strings{"2045-11-05T01:00:00-04:00", "2045-11-05T01:30:00-04:00",
                  "2045-11-05T01:00:00-05:00", "2045-11-05T01:30:00-05:00"});
    CHECK(fires("15 2 * * *", "Australia/Lord_Howe", "2038-10-02T00:00:00Z", 1) ==
          strings{"2038-10-03T02:30:00+11:00"});
}

TEST_CASE("an interval schedule matching only inside DST gaps never fires", "[cron][dst]") {
    // Regression (found by the fuzzer): every match of "* 2 ? 3 SUN#2" in New York lies in the
    // spring-forward gap, and the walk used to run past year 32767 instead of giving up.
    const auto expr = sluice::scheduler::cron_expression::parse("* 2 ? 3 SUN#2").value();
    const auto* ny = date::locate_zone("America/New_York");
    const auto from = date::sys_days{date::year{2026} / 1 / 1};
    CHECK_FALSE(expr.next(std::chrono::sys_seconds{from}, ny).has_value());
    // Every second of the gap hour: the walk jumps over a gap instead of resolving each second.
    const auto seconds = sluice::scheduler::cron_expression::parse("* * 2 ? 3 SUN#2").value();
    CHECK_FALSE(seconds.next(std::chrono::sys_seconds{from}, ny).has_value());
    // The fixed-time variant fires at the end of the gap every year.
    CHECK(fires("0 2 ? 3 SUN#2", "America/New_York", "2026-01-01T00:00:00Z", 2) ==
          strings{"2026-03-08T03:00:00-04:00", "2027-03-14T03:00:00-04:00"});
}

TEST_CASE("fire times past year 9999 are never", "[cron]") {
    const auto expr = sluice::scheduler::cron_expression::parse("0 0 1 1 *").value();
    const auto late = date::sys_days{date::year{9999} / 6 / 1};
    CHECK_FALSE(expr.next(std::chrono::sys_seconds{late}, nullptr).has_value());
    CHECK_FALSE(expr.next(std::chrono::sys_seconds{late}, date::locate_zone("Europe/Berlin")));
    const auto every = sluice::scheduler::cron_expression::parse("@every 1d").value();
    CHECK_FALSE(every.next(std::chrono::sys_seconds{late + date::days{213}}, nullptr));
}
