// End-to-end: the real binary, its arguments, its output and its exit codes.
#include <catch2/catch.hpp>

#include "process.hpp"

using sluice::test::lines;
using sluice::test::run_sluice;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {
const std::string source_dir = SLUICE_SOURCE_DIR;
}

TEST_CASE("version flag prints the version and exits 0", "[cli]") {
    auto r = run_sluice({"--version"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, StartsWith("sluice 0."));
}

TEST_CASE("no subcommand is a usage error with exit code 2", "[cli]") {
    auto r = run_sluice({});
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
}

TEST_CASE("cron next prints fire times in the zone with offsets across spring forward", "[cli]") {
    auto r = run_sluice({"cron", "next", "0 2 * * *", "--tz", "Europe/Berlin", "--from",
                         "2026-03-28T12:00:00Z", "-n", "3"});
    REQUIRE(r.exit_code == 0);
    CHECK(lines(r.out) == std::vector<std::string>{"2026-03-29T03:00:00+02:00",
                                                   "2026-03-30T02:00:00+02:00",
                                                   "2026-03-31T02:00:00+02:00"});
}

TEST_CASE("cron next fires a fixed time once and an interval twice across fall back", "[cli]") {
    auto fixed = run_sluice({"cron", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--from",
                             "2026-10-24T12:00:00Z", "-n", "2"});
    REQUIRE(fixed.exit_code == 0);
    CHECK(lines(fixed.out) ==
          std::vector<std::string>{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"});

    auto interval = run_sluice({"cron", "next", "*/30 2 * * *", "--tz", "Europe/Berlin",
                                "--from", "2026-10-24T12:00:00Z", "-n", "5"});
    REQUIRE(interval.exit_code == 0);
    CHECK(lines(interval.out) ==
          std::vector<std::string>{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                                   "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00",
                                   "2026-10-26T02:00:00+01:00"});
}

TEST_CASE("cron next defaults to UTC and ten lines", "[cli]") {
    auto r = run_sluice({"cron", "next", "@hourly", "--from", "2026-01-01T00:30:00Z"});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 10);
    CHECK(out.front() == "2026-01-01T01:00:00+00:00");
    CHECK(out.back() == "2026-01-01T10:00:00+00:00");
}

TEST_CASE("cron next with 6 and 7 fields and a schedule that ends", "[cli]") {
    auto seconds = run_sluice({"cron", "next", "*/20 * * * * *", "--from",
                               "2026-01-01T00:00:00Z", "-n", "3"});
    REQUIRE(seconds.exit_code == 0);
    CHECK(lines(seconds.out) == std::vector<std::string>{"2026-01-01T00:00:20+00:00",
                                                         "2026-01-01T00:00:40+00:00",
                                                         "2026-01-01T00:01:00+00:00"});
    auto years = run_sluice({"cron", "next", "0 0 0 1 1 * 2027-2028", "--from",
                             "2026-06-01T00:00:00Z", "-n", "5"});
    REQUIRE(years.exit_code == 0);
    CHECK(lines(years.out) ==
          std::vector<std::string>{"2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"});
}

TEST_CASE("cron next rejects a bad expression with a caret under the field", "[cli]") {
    auto r = run_sluice({"cron", "next", "0 0 32 * *"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("invalid cron expression"));
    CHECK_THAT(r.err, Contains("32"));
    const auto err = lines(r.err);
    REQUIRE(err.size() >= 3);
    CHECK(err[1] == "  0 0 32 * *");
    CHECK(err[2] == "      ^^");
}

TEST_CASE("cron next rejects an unknown zone and a bad --from", "[cli]") {
    auto zone = run_sluice({"cron", "next", "0 0 * * *", "--tz", "Mars/Base"});
    CHECK(zone.exit_code == 1);
    CHECK_THAT(zone.err, Contains("Mars/Base"));
    auto from = run_sluice({"cron", "next", "0 0 * * *", "--from", "yesterday"});
    CHECK(from.exit_code == 2);
    CHECK_THAT(from.err, Contains("RFC 3339"));
}

TEST_CASE("cron explain describes the schedule and lists five fire times", "[cli]") {
    auto r = run_sluice({"cron", "explain", "30 2 * * MON-FRI", "--tz", "America/New_York"});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 7);
    CHECK_THAT(out[0], Contains("02:30"));
    CHECK_THAT(out[0], Contains("America/New_York"));
    CHECK(out[1] == "next fire times:");
    for (std::size_t i = 2; i < out.size(); ++i) {
        CHECK_THAT(out[i], StartsWith("  20"));
        CHECK_THAT(out[i], Contains("T02:30:00-0"));
    }
}

TEST_CASE("serve and run say they are not available yet and exit 2", "[cli]") {
    for (const char* command : {"serve", "run"}) {
        auto r = run_sluice({command});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("not available"));
    }
}
