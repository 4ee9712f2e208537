// End-to-end: the small things a new user trips on, with the real binary and a real daemon:
// a did-you-mean for unknown jobs in every command and for time zones, the same exit code for
// an unknown run with and without --server, waiting runs in `jobs list`, the reason a token
// file cannot be read, and a note on six-field schedules.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_daemon.hpp"
#include "process.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sluice::test;

namespace {

const std::string jobs_yaml = R"(
jobs:
  nightly:
    schedule: "0 3 * * * *"
    params:
      limit: {type: integer, default: "10"}
    tasks:
      t: {type: noop}
  single:
    max_active_runs: 1
    tasks:
      hold: {type: shell, command: "sleep 30"}
)";

const std::string daemon_yaml =
    "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"sqlite://var/e2e.db\"\n"
    "shutdown_grace: 1s\n" +
    jobs_yaml;

}  // namespace

TEST_CASE("an unknown job gets a did-you-mean in every command", "[e2e][cli][hints]") {
    http_daemon d(daemon_yaml);
    INFO(d.log());
    REQUIRE(d.port() != 0);
    const std::vector<std::string> env{"SLUICE_SERVER=http://127.0.0.1:" +
                                       std::to_string(d.port())};
    const std::string hint = "no job named 'nigthly'; did you mean 'nightly'?";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"trigger", "nigthly"},
             {"jobs", "pause", "nigthly"},
             {"jobs", "unpause", "nigthly"},
             {"backfill", "nigthly", "--from", "2026-01-01T00:00:00Z", "--to",
              "2026-01-02T00:00:00Z"},
         }) {
        auto r = run_sluice(args, env);
        INFO(args[0] << " " << args[1] << ": " << r.err);
        CHECK(r.exit_code == 3);
        CHECK_THAT(r.err, Contains(hint));
    }
    const auto config = d.dir() / "sluice.yaml";
    auto local = run_sluice({"run", "-c", config.string(), "nigthly"});
    CHECK(local.exit_code == 2);
    CHECK_THAT(local.err, Contains(hint));
    auto far = run_sluice({"run", "-c", config.string(), "zzzzzzzzzz"});
    CHECK_THAT(far.err, Contains("no job named 'zzzzzzzzzz'; jobs: nightly, single"));

    // A param of the wrong type says which type, with its article.
    auto bad = run_sluice({"trigger", "nightly", "-p", "limit=ten"}, env);
    CHECK(bad.exit_code == 3);
    CHECK_THAT(bad.err, Contains("parameter 'limit' must be an integer, got 'ten'"));
}

TEST_CASE("runs show exits 3 for an unknown run with and without --server", "[e2e][cli][hints]") {
    http_daemon d(daemon_yaml);
    REQUIRE(d.port() != 0);
    auto remote = run_sluice(
        {"runs", "show", "999", "--server", "http://127.0.0.1:" + std::to_string(d.port())});
    CHECK(remote.exit_code == 3);
    CHECK_THAT(remote.err, Contains("no run with id 999"));
    auto local = run_sluice({"runs", "show", "-c", (d.dir() / "sluice.yaml").string(), "999"});
    CHECK(local.exit_code == 3);
    CHECK_THAT(local.err, Contains("no run with id 999"));
}

TEST_CASE("jobs list shows the runs waiting behind max_active_runs", "[e2e][cli][hints]") {
    http_daemon d(daemon_yaml);
    REQUIRE(d.port() != 0);
    const std::vector<std::string> env{"SLUICE_SERVER=http://127.0.0.1:" +
                                       std::to_string(d.port())};
    for (int i = 0; i < 3; ++i) {
        REQUIRE(run_sluice({"trigger", "single"}, env).exit_code == 0);
    }
    auto list = run_sluice({"jobs", "list"}, env);
    INFO(list.out << list.err);
    CHECK(list.exit_code == 0);
    const auto out = lines(list.out);
    REQUIRE(out.size() == 3);
    CHECK_THAT(out[0], Contains("ACTIVE_RUNS") && Contains("WAITING_RUNS"));
    // One runs, two wait behind it.
    std::istringstream row(out[2]);
    std::vector<std::string> cells;
    for (std::string cell; row >> cell;) {
        cells.push_back(cell);
    }
    REQUIRE(cells.size() >= 3);
    CHECK(cells.front() == "single");
    CHECK(cells[cells.size() - 2] == "1");
    CHECK(cells.back() == "2");
}

TEST_CASE("an unreadable token file says why", "[e2e][cli][hints]") {
    auto r = run_sluice({"runs", "list", "--server", "http://127.0.0.1:9", "--token-file",
                         "/nonexistent/sluice.token"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("cannot read the token file /nonexistent/sluice.token: No such "
                               "file or directory"));
}

TEST_CASE("time zones get a did-you-mean for a city and a case slip", "[e2e][cli][hints]") {
    auto city = run_sluice({"cron", "next", "0 2 * * *", "--tz", "Berlin"});
    CHECK(city.exit_code == 1);
    CHECK_THAT(city.err, Contains("unknown time zone 'Berlin'; did you mean 'Europe/Berlin'?"));
    auto spaced = run_sluice({"cron", "next", "0 2 * * *", "--tz", "new york"});
    CHECK_THAT(spaced.err, Contains("did you mean 'America/New_York'?"));
    auto lower = run_sluice({"cron", "next", "0 2 * * *", "--tz", "europe/paris"});
    CHECK_THAT(lower.err, Contains("did you mean 'Europe/Paris'?"));

    const auto dir =
        std::filesystem::temp_directory_path() / ("sluice-hints-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "zone.yaml";
    std::ofstream(file) << "jobs:\n  j:\n    schedule: \"0 2 * * *\"\n    timezone: Berlin\n"
                           "    tasks: {t: {type: noop}}\n";
    auto r = run_sluice({"validate", "-c", file.string()});
    std::filesystem::remove_all(dir);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err,
               Contains(file.string() + ":4:15: error: unknown time zone 'Berlin'; did you mean "
                                        "'Europe/Berlin'?"));
}

TEST_CASE("validate notes that the first of six fields is seconds", "[e2e][cli][hints]") {
    const auto dir =
        std::filesystem::temp_directory_path() / ("sluice-six-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "six.yaml";
    std::ofstream(file) << "jobs:\n  six:\n    schedule: \"0 3 * * * *\"\n"
                           "    tasks: {t: {type: noop}}\n"
                           "  every:\n    schedule: \"*/30 * * * * *\"\n"
                           "    tasks: {t: {type: noop}}\n"
                           "  five:\n    schedule: \"0 3 * * *\"\n    tasks: {t: {type: noop}}\n";
    auto r = run_sluice({"validate", "-c", file.string()});
    std::filesystem::remove_all(dir);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("3 jobs"));
    CHECK_THAT(r.out,
               Contains("note: six fields, so the first (0) is seconds: it fires at minute 3; "));
    CHECK_THAT(r.out, Contains("; five fields are minute hour day month weekday"));
    // Only the one that looks like a slip: a seconds step and five fields get no note.
    std::size_t notes = 0;
    for (const auto& line : lines(r.out)) {
        notes += line.find("note:") != std::string::npos ? 1 : 0;
    }
    CHECK(notes == 1);
}
