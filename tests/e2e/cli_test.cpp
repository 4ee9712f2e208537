// End-to-end: the real binary, its arguments, its output and its exit codes.
#include <cstdlib>

#include <catch2/catch.hpp>

#include "process.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using sluice::test::lines;
using sluice::test::run_sluice;

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

    auto interval = run_sluice({"cron", "next", "*/30 2 * * *", "--tz", "Europe/Berlin", "--from",
                                "2026-10-24T12:00:00Z", "-n", "5"});
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
    auto seconds =
        run_sluice({"cron", "next", "*/20 * * * * *", "--from", "2026-01-01T00:00:00Z", "-n", "3"});
    REQUIRE(seconds.exit_code == 0);
    CHECK(lines(seconds.out) == std::vector<std::string>{"2026-01-01T00:00:20+00:00",
                                                         "2026-01-01T00:00:40+00:00",
                                                         "2026-01-01T00:01:00+00:00"});
    auto years = run_sluice(
        {"cron", "next", "0 0 0 1 1 * 2027-2028", "--from", "2026-06-01T00:00:00Z", "-n", "5"});
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

TEST_CASE("validate reports every error of a broken config with file line and column", "[cli]") {
    const std::string file = source_dir + "/tests/e2e/data/broken.yaml";
    auto r = run_sluice({"validate", "-c", file});
    CHECK(r.exit_code == 1);
    const auto err = lines(r.err);
    const std::vector<std::string> expected{
        file + ":3:10: error: invalid integer 'many' for 'workers'",
        file + ":8:5: error: unknown key 'schedul' in job 'nightly'; did you mean 'schedule'?",
        file +
            ":13:18: error: invalid duration '10 minutes' for 'timeout': expected a duration "
            "such as 500ms, 90s, 15m, 2h, 1d or 1h30m",
        file +
            ":15:20: error: invalid schedule '0 0 32 * *': day-of-month: 32 is out of range 1-31",
        file +
            ":16:15: error: unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'? "
            "(expected an IANA name such as UTC, Europe/Berlin or America/New_York)",
        file +
            ":17:14: error: invalid value 'sometimes' for 'catchup': expected one of none, "
            "latest, all",
        file + ":21:21: error: unknown connection 'warehous'; did you mean 'warehouse'?",
        file +
            ":23:22: error: dependency cycle in job 'hourly': load -> merge -> load (each task "
            "depends on the next)",
        "8 errors in " + file,
    };
    CHECK(err == expected);
}

TEST_CASE("validate refuses what serve would: a network listen address without tokens", "[cli]") {
    const std::string file = source_dir + "/tests/e2e/data/open_listen.yaml";
    auto r = run_sluice({"validate", "-c", file});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains(file + ": error: server.listen is 0.0.0.0:0 but no server.tokens"));
}

TEST_CASE("validate accepts the quickstart and lists its jobs with next fire times", "[cli]") {
    auto r =
        run_sluice({"validate", "-c", source_dir + "/examples/quickstart.yaml", "--next", "2"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("valid, 2 jobs"));
    CHECK_THAT(r.out, Contains("load-orders"));
    CHECK_THAT(r.out, Contains("next: "));
}

namespace {

// A fresh directory holding a copy of tests/e2e/data/dag.yaml, so each test has its own store.
std::string dag_config() {
    char dir[] = "/tmp/sluice-e2e-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string file = std::string(dir) + "/dag.yaml";
    auto copy =
        sluice::test::run_process("/bin/cp", {source_dir + "/tests/e2e/data/dag.yaml", file});
    REQUIRE(copy.exit_code == 0);
    return file;
}

}  // namespace

TEST_CASE("run executes a DAG in the foreground and exits 0 on success", "[cli][run]") {
    const std::string config = dag_config();
    auto r = run_sluice({"run", "-c", config, "ok", "--param", "who=e2e"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("job ok  success"));
    CHECK_THAT(r.out, Contains("hello e2e from left"));
    CHECK_THAT(r.out, Contains("::sluice metric rows=42"));

    auto list = run_sluice({"runs", "list", "-c", config, "--output", "json"});
    REQUIRE(list.exit_code == 0);
    CHECK_THAT(list.out, Contains("\"state\": \"success\""));
    auto show = run_sluice({"runs", "show", "-c", config, "1", "--output", "json"});
    REQUIRE(show.exit_code == 0);
    CHECK_THAT(show.out, Contains("\"rows\": 42"));
}

TEST_CASE("run retries a failing task then applies trigger rules and exits 1", "[cli][run]") {
    const std::string config = dag_config();
    auto r = run_sluice({"run", "-c", config, "flaky"});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Contains("job flaky  failed"));
    CHECK_THAT(r.out, Contains("[try 1] try 1"));
    CHECK_THAT(r.out, Contains("[try 2] try 2"));
    const auto out = lines(r.out);
    const auto state_of = [&](const std::string& task) {
        for (const auto& l : out) {
            if (l.rfind("  " + task + " ", 0) == 0) {
                return l;
            }
        }
        return std::string("missing");
    };
    CHECK_THAT(state_of("fail"), Contains("failed"));
    CHECK_THAT(state_of("fail"), Contains("2/2"));
    // Its first try, superseded by the retry, is listed under the table.
    CHECK_THAT(r.out, Contains("earlier tries:"));
    bool first_try = false;
    for (const auto& l : out) {
        first_try = first_try ||
                    (l.rfind("  fail ", 0) == 0 && l.find("up_for_retry") != std::string::npos);
    }
    CHECK(first_try);
    CHECK_THAT(state_of("cleanup"), Contains("success"));
    CHECK_THAT(state_of("alert"), Contains("success"));
    CHECK_THAT(state_of("never"), Contains("upstream_failed"));
}

TEST_CASE("run rejects unknown jobs and malformed or undeclared params", "[cli][run]") {
    const std::string config = dag_config();
    CHECK(run_sluice({"run", "-c", config, "nope"}).exit_code == 2);
    CHECK(run_sluice({"run", "-c", config, "ok", "--param", "novalue"}).exit_code == 2);
    auto undeclared = run_sluice({"run", "-c", config, "ok", "--param", "color=red"});
    CHECK(undeclared.exit_code == 2);
    CHECK_THAT(undeclared.err, Contains("color"));
}

TEST_CASE("token new prints a token and the config entry holding its hash", "[cli][token]") {
    auto r = run_sluice({"token", "new", "ci-bot", "--role", "operator"});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 3);
    CHECK_THAT(out[0], StartsWith("token: sluice_"));
    CHECK_THAT(out[2], StartsWith("  - {name: ci-bot, sha256: "));
    CHECK_THAT(out[2], Contains(", role: operator}"));
    auto again = run_sluice({"token", "new", "ci-bot"});
    CHECK(lines(again.out).at(0) != out[0]);
    CHECK_THAT(lines(again.out).at(2), Contains("role: viewer"));
    CHECK(run_sluice({"token", "new", "bad name"}).exit_code == 2);
    CHECK(run_sluice({"token", "new", "x", "--role", "root"}).exit_code == 2);
}

TEST_CASE("run of an initial load triggers each load in sequence and goes on past a failure",
          "[cli][run][trigger_job]") {
    char dir[] = "/tmp/sluice-e2e-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string config = std::string(dir) + "/initial_load.yaml";
    REQUIRE(sluice::test::run_process("/bin/cp",
                                      {source_dir + "/tests/e2e/data/initial_load.yaml", config})
                .exit_code == 0);
    auto r = run_sluice({"run", "-c", config, "initial_load"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);  // one load failed
    CHECK_THAT(r.out, Contains("job initial_load  failed"));
    const auto out = lines(r.out);
    const auto state_of = [&](const std::string& task) {
        for (const auto& l : out) {
            if (l.rfind("  " + task + " ", 0) == 0) {
                return l;
            }
        }
        return std::string("missing");
    };
    CHECK_THAT(state_of("orders"), Contains("success"));
    CHECK_THAT(state_of("users"), Contains("failed"));
    CHECK_THAT(state_of("items"), Contains("success"));
    CHECK_THAT(state_of("views"), Contains("success"));
    CHECK_THAT(r.out, Contains("of job load_users ended failed"));

    // The loads ran one after the other, in order, the failed one included, then the views.
    auto loads = sluice::test::run_process("/bin/cat", {std::string(dir) + "/loads.txt"});
    CHECK(lines(loads.out) ==
          std::vector<std::string>{"orders since 2020-01-01", "users failing", "items", "views"});

    // Each load is a run of its own job, visible as such.
    auto list = run_sluice({"runs", "list", "-c", config, "--output", "json"});
    REQUIRE(list.exit_code == 0);
    for (const char* job : {"load_orders", "load_users", "load_items", "initial_load"}) {
        CHECK_THAT(list.out, Contains(std::string("\"job\": \"") + job + "\""));
    }
}
