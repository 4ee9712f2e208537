// End-to-end: values between tasks on the real `sluice serve`, on SQLite and PostgreSQL stores
// (docs/task-kinds.md#values-between-tasks). A shell task publishes values, a sql task turns one
// into its own output, a downstream shell task receives both (again on its retry) and an http
// task sends them in its url, a header and its JSON body; the run's detail, `sluice runs show`
// over HTTP and from the store show them.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../component/store/test_databases.hpp"
#include "http_api_support.hpp"
#include "process.hpp"
#include "scratch_dir.hpp"
#include "webhook_receiver.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

std::string config(const scratch_dir& dir, const std::string& store_url, std::uint16_t hook) {
    return "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + store_url +
           "\"\nshutdown_grace: 1s\n" + R"(
connections:
  work: {type: sqlite, url: "sqlite://work.db"}
jobs:
  values:
    params:
      region: {default: eu}
    tasks:
      extract:
        type: shell
        command: |
          echo '::sluice output batch_id=42'
          echo '::sluice output note=a b&c "q"'
      total:
        type: sql
        connection: work
        depends_on: extract
        outputs: [doubled]
        sql: "SELECT CAST(:output_extract_batch_id AS INTEGER) * 2 AS doubled"
      report:
        type: shell
        depends_on: total
        retries: {max_attempts: 2, delay: 1s}
        command: |
          echo "$SLUICE_TRY_NUMBER $SLUICE_OUTPUT_EXTRACT_BATCH_ID $SLUICE_OUTPUT_TOTAL_DOUBLED $SLUICE_OUTPUT_EXTRACT_NOTE" >> )" +
           (dir.path / "report.txt").string() + R"(
          test "$SLUICE_TRY_NUMBER" -ge 2
      hook:
        type: http
        depends_on: total
        method: POST
        url: "http://127.0.0.1:)" +
           std::to_string(hook) + R"(/hook/{{ output.extract.note }}?d={{ output.total.doubled }}"
        headers: {X-Batch: "{{ output.extract.batch_id }}"}
        body: {note: "{{ output.extract.note }}", region: "{{ param.region }}"}
)";
}

std::string header(const received_request& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) {
            return v;
        }
    }
    return "";
}

}  // namespace

TEMPLATE_TEST_CASE("outputs reach downstream tasks, survive their retries and are shown",
                   "[e2e][outputs]", sqlite_database, postgres_database) {
    TestType db;
    scratch_dir dir;
    webhook_receiver hook;
    http_daemon d(config(dir, db.url(), hook.port()));
    INFO(d.log());
    REQUIRE(d.port() != 0);

    const auto id = trigger(d.port(), "values");
    const json run = wait_finished(d.port(), id);
    INFO(run.dump(2));
    REQUIRE(run["state"] == "success");

    // The downstream shell task got every upstream value, on its failed first try and again on
    // its retry (read again from the store, not from memory).
    CHECK(dir.lines_of("report.txt") ==
          std::vector<std::string>{"1 42 84 a b&c \"q\"", "2 42 84 a b&c \"q\""});

    // The http task: percent-encoded in the url, as is in a header, JSON-escaped in the body.
    const auto requests = hook.wait_for(1, 5s);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].target == "/hook/a%20b%26c%20%22q%22?d=84");
    CHECK(header(requests[0], "X-Batch") == "42");
    CHECK(json::parse(requests[0].body) == json{{"note", "a b&c \"q\""}, {"region", "eu"}});

    // The run's detail shows each task's outputs.
    std::map<std::string, json> tasks;
    for (const auto& t : run["tasks"]) {
        tasks[t["task"].get<std::string>()] = t;
    }
    CHECK(tasks["extract"]["outputs"] == json{{"batch_id", "42"}, {"note", "a b&c \"q\""}});
    CHECK(tasks["total"]["outputs"] == json{{"doubled", "84"}});
    CHECK(tasks["report"]["outputs"] == json::object());
    CHECK(tasks["report"]["attempts"].size() == 2);

    // `sluice runs show` over HTTP, as a table and as JSON.
    const std::string url = "http://127.0.0.1:" + std::to_string(d.port());
    auto shown = run_sluice({"runs", "show", std::to_string(id)}, {"SLUICE_SERVER=" + url});
    INFO(shown.out << shown.err);
    CHECK(shown.exit_code == 0);
    CHECK_THAT(shown.out, Contains("outputs:\n") && Contains("  extract.batch_id = 42\n") &&
                              Contains("  extract.note = a b&c \"q\"\n") &&
                              Contains("  total.doubled = 84\n"));
    auto as_json = run_sluice({"runs", "show", std::to_string(id), "--output", "json"},
                              {"SLUICE_SERVER=" + url});
    REQUIRE(as_json.exit_code == 0);
    CHECK(json::parse(as_json.out)["tasks"][1]["outputs"] == json{{"doubled", "84"}});

    // ... and from the store, with the daemon stopped.
    CHECK(d.stop() == 0);
    auto local =
        run_sluice({"runs", "show", "-c", (d.dir() / "sluice.yaml").string(), std::to_string(id)});
    INFO(local.out << local.err);
    CHECK(local.exit_code == 0);
    CHECK_THAT(local.out,
               Contains("  extract.batch_id = 42\n") && Contains("  total.doubled = 84\n"));
}
