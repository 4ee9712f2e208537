// End-to-end: `sluice prune` on both stores removes finished runs older than the configured
// retention and nothing else; --dry-run counts the same and removes nothing (docs/cli.md).
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon_process.hpp"
#include "process.hpp"
#include "tests/component/store/test_databases.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using sluice::test::run_sluice;
using sluice::test::temp_dir;

namespace {

// The line of `output` that starts with `label` ("  log lines       12").
std::string count_line(const std::string& output, const std::string& label) {
    const auto at = output.find("  " + label);
    REQUIRE(at != std::string::npos);
    return output.substr(at, output.find('\n', at) - at);
}

std::size_t listed_runs(const std::string& config) {
    auto r = run_sluice({"runs", "list", "-c", config, "--output", "json", "--limit", "1000"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out).at("runs").size();
}

}  // namespace

TEMPLATE_TEST_CASE("prune removes runs older than the retention; --dry-run only counts",
                   "[e2e][retention]", sluice::test::sqlite_database,
                   sluice::test::postgres_database) {
    TestType db;
    temp_dir dir;
    const std::string config = (dir.path() / "sluice.yaml").string();
    std::ofstream(config) << "store: {url: \"" << db.url() << "\"}\n"
                          << "retention: {runs: 2s, logs: 0, events: 0}\n"
                          << "jobs:\n  quick:\n    tasks:\n"
                          << "      say: {type: shell, command: 'echo one; echo two'}\n";
    for (int i = 0; i < 3; ++i) {
        auto ran = run_sluice({"run", "-c", config, "quick"});
        INFO(ran.out << ran.err);
        REQUIRE(ran.exit_code == 0);
    }
    REQUIRE(listed_runs(config) == 3);

    // Not old enough yet: nothing to remove.
    auto early = run_sluice({"prune", "-c", config, "--dry-run"});
    INFO(early.out << early.err);
    REQUIRE(early.exit_code == 0);
    CHECK_THAT(early.out, Contains("retention: runs 2s, logs forever, events forever"));
    CHECK_THAT(early.out, Contains("runs            0"));

    std::this_thread::sleep_for(2500ms);
    auto dry = run_sluice({"prune", "-c", config, "--dry-run"});
    INFO(dry.out << dry.err);
    REQUIRE(dry.exit_code == 0);
    CHECK_THAT(dry.out, Contains("would remove (dry run, nothing removed)"));
    CHECK_THAT(dry.out, Contains("runs            3"));
    CHECK_THAT(dry.out, Contains("task instances  3"));
    const std::string lines_counted = count_line(dry.out, "log lines");
    CHECK(lines_counted != "  log lines       0");
    CHECK(listed_runs(config) == 3);

    auto pruned = run_sluice({"prune", "-c", config});
    INFO(pruned.out << pruned.err);
    REQUIRE(pruned.exit_code == 0);
    CHECK_THAT(pruned.out, Contains("removed:"));
    CHECK_THAT(pruned.out, Contains("runs            3"));
    CHECK(count_line(pruned.out, "log lines") == lines_counted);
    CHECK(count_line(pruned.out, "events") == count_line(dry.out, "events"));
    CHECK(listed_runs(config) == 0);

    auto again = run_sluice({"prune", "-c", config, "--dry-run"});
    CHECK_THAT(again.out, Contains("runs            0"));
}

TEST_CASE("prune refuses a retention it cannot read, at its line", "[e2e][retention]") {
    temp_dir dir;
    const std::string config = (dir.path() / "sluice.yaml").string();
    std::ofstream(config) << "retention: {runs: forever}\njobs: {}\n";
    auto r = run_sluice({"prune", "-c", config});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("sluice.yaml:1:19"));
    CHECK_THAT(r.err, Contains("invalid duration"));
}
