// End-to-end: params of backfills on the real `sluice serve`, on SQLite and PostgreSQL stores:
// `sluice backfill --param` and the API's `params` reach every run of the backfill, are checked
// like a trigger's, are kept with the backfill and shown by it; the job detail describes each
// param; a scheduled job that requires a param is refused by `sluice validate`.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../component/store/test_databases.hpp"
#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"
#include "scratch_dir.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

// `daily` records its logical time and params in DIR/done.txt (2025 intervals only).
std::string config(const scratch_dir& dir, const std::string& store_url) {
    return "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + store_url +
           "\"\nshutdown_grace: 1s\n" + R"(
jobs:
  daily:
    schedule: "0 3 * * *"
    timezone: UTC
    catchup: none
    params:
      mode: {type: string, values: [fast, full], default: fast, description: How deep to go}
      limit: {type: integer, default: "10"}
      label:
    tasks:
      load:
        type: shell
        command: 'case "$SLUICE_LOGICAL_TIME" in 2025*) echo "$SLUICE_LOGICAL_TIME $SLUICE_PARAM_MODE $SLUICE_PARAM_LIMIT $SLUICE_PARAM_LABEL" >> )" +
           (dir.path / "done.txt").string() + R"(;; esac'
)";
}

json body_of(const http_reply& r) {
    return json::parse(r.body, nullptr, false);
}

http_reply post_backfill(std::uint16_t port, const json& body) {
    return http_call(port, "POST", "/api/v1/jobs/daily/backfills", body.dump(),
                     {{"Content-Type", "application/json"}});
}

}  // namespace

TEMPLATE_TEST_CASE("backfill params reach every run, are checked like a trigger's and are kept",
                   "[e2e][backfill][params]", sqlite_database, postgres_database) {
    TestType db;
    scratch_dir dir;
    http_daemon d(config(dir, db.url()));
    INFO(d.log());
    REQUIRE(d.port() != 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(d.port());
    auto cli = [&](std::vector<std::string> args) {
        return run_sluice(args, {"SLUICE_SERVER=" + url});
    };

    // The CLI passes --param to every run; the param left out gets its default.
    auto waited =
        cli({"backfill", "daily", "--from", "2025-03-01T00:00:00Z", "--to", "2025-03-04T03:00:00Z",
             "--param", "mode=full", "--param", "label=rerun 1", "--wait"});
    INFO(waited.out << waited.err);
    CHECK(waited.exit_code == 0);
    CHECK_THAT(waited.out, Contains("params      label=rerun 1 mode=full"));
    CHECK(dir.lines_of("done.txt") == std::vector<std::string>{
                                          "2025-03-02T03:00:00Z full 10 rerun 1",
                                          "2025-03-03T03:00:00Z full 10 rerun 1",
                                          "2025-03-04T03:00:00Z full 10 rerun 1",
                                      });
    auto runs = body_of(http_call(d.port(), "GET", "/api/v1/runs?job=daily&limit=10"))["runs"];
    REQUIRE(runs.size() == 3);
    for (const auto& r : runs) {
        CHECK(r["params"] == json{{"mode", "full"}, {"limit", "10"}, {"label", "rerun 1"}});
    }
    auto listed = body_of(http_call(d.port(), "GET", "/api/v1/backfills?job=daily"));
    REQUIRE(listed["backfills"].size() == 1);
    CHECK(listed["backfills"][0]["params"] == json{{"mode", "full"}, {"label", "rerun 1"}});

    // The API's params, numbers passed as text.
    auto created = post_backfill(d.port(), {{"start", "2025-04-01T00:00:00Z"},
                                            {"end", "2025-04-03T00:00:00Z"},
                                            {"params", {{"limit", 7}}}});
    INFO(created.body);
    REQUIRE(created.status == 201);
    CHECK(body_of(created)["params"] == json{{"limit", "7"}});

    // Bad params are refused before anything is created, dry runs included.
    for (const auto& [params, message] : std::vector<std::pair<json, std::string>>{
             {{{"mood", "x"}}, "job daily has no parameter 'mood' (declared: mode, limit, label)"},
             {{{"mode", "slow"}}, "parameter 'mode' must be one of fast, full, got 'slow'"},
             {{{"limit", "ten"}}, "parameter 'limit' must be an integer, got 'ten'"},
             {{{"label", json::array()}}, "param 'label' must be a string, number or boolean"},
         }) {
        for (bool dry : {false, true}) {
            auto r = post_backfill(d.port(), {{"start", "2025-05-01T00:00:00Z"},
                                              {"end", "2025-05-03T00:00:00Z"},
                                              {"dry_run", dry},
                                              {"params", params}});
            INFO(params.dump() << " -> " << r.body);
            CHECK(r.status == 400);
            CHECK_THAT(r.body, Contains(message));
        }
    }
    auto refused = cli({"backfill", "daily", "--from", "2025-05-01T00:00:00Z", "--to",
                        "2025-05-03T00:00:00Z", "--param", "mode=slow"});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Contains("must be one of fast, full"));
    auto usage = cli({"backfill", "daily", "--from", "2025-05-01T00:00:00Z", "--to",
                      "2025-05-03T00:00:00Z", "--param", "mode"});
    CHECK(usage.exit_code == 2);
    CHECK(body_of(http_call(d.port(), "GET", "/api/v1/backfills?job=daily"))["backfills"].size() ==
          2);

    // The job detail describes each param as docs/configuration.md says.
    auto job = body_of(http_call(d.port(), "GET", "/api/v1/jobs/daily"));
    REQUIRE(job["params"].size() == 3);
    CHECK(job["params"][0] == json{{"name", "mode"},
                                   {"type", "string"},
                                   {"description", "How deep to go"},
                                   {"required", false},
                                   {"values", {"fast", "full"}},
                                   {"default", "fast"}});
    CHECK(job["params"][2] == json{{"name", "label"},
                                   {"type", "string"},
                                   {"description", ""},
                                   {"required", false},
                                   {"values", json::array()},
                                   {"default", nullptr}});
}

TEST_CASE("validate refuses a scheduled job that requires a param", "[e2e][params]") {
    scratch_dir dir;
    const auto file = dir.path / "sluice.yaml";
    std::ofstream(file) << R"(jobs:
  nightly:
    schedule: "0 3 * * *"
    params:
      day: {type: date, required: true}
    tasks: {t: {type: noop}}
  manual:
    params:
      day: {type: date, required: true}
    tasks: {t: {type: noop}}
)";
    auto r = run_sluice({"validate", "-c", file.string()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains(file.string() +
                               ":5:35: error: param 'day' is required, but job 'nightly' has a "
                               "schedule: its scheduled runs would have no value for it; give the "
                               "param a default instead"));
    CHECK_THAT(r.err, Contains("1 error"));
}
