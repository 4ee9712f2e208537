// End-to-end: the real `sluice serve` refuses what an outsider could use to crash it or grow its
// memory, and what a user most likely mistyped (docs/api.md#requests, docs/api.md#limits):
// bodies nested 100,000 deep, 1 MiB params, an endless chunk extension, unknown body fields and
// enumerated query values; backfill bounds given as a date alone; the CLI's exit codes.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_api_support.hpp"
#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

const std::string strict_jobs = R"(
jobs:
  typed:
    schedule: "30 0 * * *"
    timezone: Europe/Berlin
    catchup: none
    params:
      n: {type: integer, default: "1"}
      ratio: {type: number, default: "0.5"}
    tasks:
      t: {type: noop}
)";

std::string strict_config(const std::string& server_extra = "") {
    return "server:\n  listen: \"127.0.0.1:0\"\n" + server_extra +
           "store:\n  url: \"sqlite://var/e2e.db\"\nshutdown_grace: 1s\n" + strict_jobs;
}

std::string nested(std::size_t levels) {
    return std::string(levels, '[') + std::string(levels, ']');
}

}  // namespace

TEST_CASE("bodies nested 100,000 deep and 1 MiB params get 4xx and never crash the daemon",
          "[e2e][http][limits]") {
    http_daemon d(strict_config("  max_body_size: 4MiB\n"));
    REQUIRE(d.port() != 0);
    const std::string deep = nested(100'000);
    for (const auto& [method, target, body] : {
             std::tuple<std::string, std::string, std::string>{"PUT", "/api/v1/variables/v",
                                                               R"({"value":)" + deep + "}"},
             {"POST", "/api/v1/jobs/typed/runs", R"({"params":{"n":)" + deep + "}}"},
             {"POST", "/api/v1/jobs/typed/backfills", R"({"start":)" + deep + "}"},
             {"POST", "/api/v1/runs/1/tasks/t/mark", R"({"state":)" + deep + "}"},
             {"POST", "/api/v1/runs/1/cancel", deep},
         }) {
        auto r = http_call(d.port(), method, target, body);
        INFO(method << " " << target << " -> " << r.body.substr(0, 300));
        CHECK(r.status == 400);
        CHECK(error_code(r) == "json_too_deep");
    }
    // 64 levels are fine as JSON (and then refused for what they mean).
    auto shallow =
        http_call(d.port(), "PUT", "/api/v1/variables/v", R"({"value":)" + nested(63) + "}");
    CHECK(shallow.status == 400);
    CHECK(error_code(shallow) == "bad_request");

    // 1 MiB of digits for an integer and a number param: checked without recursion.
    const std::string digits(1024 * 1024, '7');
    auto big_int = http_call(d.port(), "POST", "/api/v1/jobs/typed/runs",
                             R"({"params":{"n":")" + digits + R"("}})");
    CHECK(big_int.status == 400);
    CHECK(error_code(big_int) == "bad_params");
    CHECK(big_int.body.size() < 1000);  // the value is quoted cut, not echoed
    auto big_number = http_call(d.port(), "POST", "/api/v1/jobs/typed/runs",
                                R"({"params":{"ratio":")" + digits + R"(x"}})");
    CHECK(big_number.status == 400);
    CHECK(http_call(d.port(), "GET", "/livez").status == 200);
}

// Beast bounds the header and the body, not chunk-size lines and extensions: the connection's
// read buffer has a maximum of its own.
TEST_CASE("an endless chunk extension is cut off at the request buffer's maximum",
          "[e2e][http][limits]") {
    http_daemon d(strict_config("  max_body_size: 64KiB\n"));
    REQUIRE(d.port() != 0);
    raw_connection c(d.port());
    REQUIRE(
        c.send("POST /api/v1/jobs/typed/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
               "application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;ext="));
    const std::string piece(64 * 1024, 'a');
    std::size_t sent = 0;
    bool refused = false;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (sent < 256 * 1024 * 1024 && std::chrono::steady_clock::now() < deadline) {
        if (!c.send(piece)) {
            refused = true;
            break;
        }
        sent += piece.size();
    }
    INFO("sent " << sent << " bytes of chunk extension");
    CHECK(refused);
    // Socket buffers hold a few MiB; the server stopped reading long before.
    CHECK(sent < 32 * 1024 * 1024);
    CHECK(http_call(d.port(), "GET", "/livez").status == 200);
}

TEST_CASE("unknown body fields and enumerated query values are 400 naming them",
          "[e2e][http][strict]") {
    http_daemon d(strict_config());
    REQUIRE(d.port() != 0);
    auto parms = http_call(d.port(), "POST", "/api/v1/jobs/typed/runs", R"({"parms":{"n":"2"}})");
    CHECK(parms.status == 400);
    CHECK_THAT(parms.body, Contains("unknown field 'parms'"));
    CHECK_THAT(parms.body, Contains("this call takes params"));
    const auto run = trigger(d.port(), "typed", R"({"params":{"n":"2"}})");
    wait_finished(d.port(), run);
    const std::string r = "/api/v1/runs/" + std::to_string(run);
    for (const auto& [target, body, field] : {
             std::tuple<std::string, std::string, std::string>{
                 r + "/tasks/t/mark", R"({"state":"failed","reason":"x"})", "reason"},
             {r + "/cancel", R"({"force":true})", "force"},
             {r + "/retry", R"({"tasks":["t"]})", "tasks"},
             {"/api/v1/jobs/typed/pause", R"({"until":"tomorrow"})", "until"},
             {"/api/v1/backfills/1/cancel", R"({"now":true})", "now"},
         }) {
        auto reply = http_call(d.port(), "POST", target, body);
        INFO(target << " -> " << reply.body);
        CHECK(reply.status == 400);
        CHECK_THAT(reply.body, Contains("unknown field '" + field + "'"));
    }
    auto var = http_call(d.port(), "PUT", "/api/v1/variables/k", R"({"value":"v","secrte":true})");
    CHECK(var.status == 400);
    CHECK_THAT(var.body, Contains("unknown field 'secrte'; this call takes value, secret"));
    // An empty body and {} still do for calls that take none.
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/typed/pause", "{}").status == 200);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/typed/unpause").status == 200);

    auto kind = http_call(d.port(), "GET", "/api/v1/events?kind=bogus", "",
                          {{"Accept", "application/json"}});
    CHECK(kind.status == 400);
    CHECK_THAT(kind.body, Contains("kind must be one of run.state, task.state"));
    CHECK_THAT(kind.body, Contains("audit"));
    CHECK(http_call(d.port(), "GET", "/api/v1/events?kind=bogus").status == 400);  // the stream
    CHECK(http_call(d.port(), "GET", "/api/v1/events?kind=audit", "",
                    {{"Accept", "application/json"}})
              .status == 200);
    auto follow = http_call(d.port(), "GET", r + "/tasks/t/logs?follow=yes");
    CHECK(follow.status == 400);
    CHECK_THAT(follow.body, Contains("follow must be one of 0, 1"));
    CHECK(http_call(d.port(), "GET", "/api/v1/runs?state=bogus").status == 400);
}

TEST_CASE("backfill bounds may be a date alone: midnight in the job's time zone, API and CLI",
          "[e2e][http][strict][backfill]") {
    http_daemon d(strict_config());
    REQUIRE(d.port() != 0);
    auto plan = http_call(d.port(), "POST", "/api/v1/jobs/typed/backfills",
                          R"({"start":"2026-12-01","end":"2026-12-03","dry_run":true})");
    INFO(plan.body);
    REQUIRE(plan.status == 200);
    const json p = body_of(plan);
    // [Dec 1 00:00, Dec 3 00:00) Berlin time: ticks at 00:30 Berlin on Dec 1 and Dec 2, so one
    // whole interval, ending Dec 2 00:30 Berlin (Dec 1 23:30 UTC). Read as UTC midnights the
    // range would hold the interval ending Dec 2 23:30 UTC instead.
    REQUIRE(p["runs"].size() == 1);
    CHECK(p["runs"][0]["logical_time"] == "2026-12-01T23:30:00Z");

    const std::string server = "http://127.0.0.1:" + std::to_string(d.port());
    auto cli = run_sluice({"backfill", "typed", "--from", "2026-12-01", "--to", "2026-12-03",
                           "--dry-run", "--server", server});
    INFO(cli.out << cli.err);
    CHECK(cli.exit_code == 0);
    CHECK_THAT(cli.out, Contains("1 run(s) would be created"));

    // docs/cli.md: each refusal and its exit code.
    auto malformed = run_sluice(
        {"backfill", "typed", "--from", "yesterday", "--to", "2026-12-03", "--server", server});
    CHECK(malformed.exit_code == 2);
    CHECK_THAT(malformed.err, Contains("--from"));
    auto no_such_day = run_sluice(
        {"backfill", "typed", "--from", "2026-02-30", "--to", "2026-12-03", "--server", server});
    CHECK(no_such_day.exit_code == 2);
    auto reversed = run_sluice({"backfill", "typed", "--from", "2026-12-03", "--to", "2026-12-01",
                                "--dry-run", "--server", server});
    CHECK(reversed.exit_code == 3);
    auto unknown_job = run_sluice({"backfill", "nope", "--from", "2026-12-01", "--to", "2026-12-03",
                                   "--dry-run", "--server", server});
    CHECK(unknown_job.exit_code == 3);
    auto bad_param = run_sluice({"backfill", "typed", "--from", "2026-12-01", "--to", "2026-12-03",
                                 "-p", "n=x", "--dry-run", "--server", server});
    CHECK(bad_param.exit_code == 3);
    auto no_equals = run_sluice({"backfill", "typed", "--from", "2026-12-01", "--to", "2026-12-03",
                                 "-p", "n", "--dry-run", "--server", server});
    CHECK(no_equals.exit_code == 2);
    auto unreachable = run_sluice({"backfill", "typed", "--from", "2026-12-01", "--to",
                                   "2026-12-03", "--server", "http://127.0.0.1:1"});
    CHECK(unreachable.exit_code == 5);
}
