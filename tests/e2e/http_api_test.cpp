// End-to-end: the real `sluice serve` on port 0, driven over HTTP (docs/api.md):
// probes, jobs, runs, events, logs, variables, metrics.
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>

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

TEST_CASE("probes answer while unknown paths are 404 and wrong methods 405", "[e2e][http]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    for (const char* probe : {"/livez", "/healthz", "/readyz"}) {
        auto r = http_call(d.port(), "GET", probe);
        INFO(probe << " " << r.body);
        CHECK(r.status == 200);
        CHECK(r.headers["content-type"] == "application/json");
    }
    CHECK(body_of(http_call(d.port(), "GET", "/readyz"))["checks"]["store"] == "ok");
    auto missing = http_call(d.port(), "GET", "/api/v1/nothing");
    CHECK(missing.status == 404);
    CHECK(error_code(missing) == "not_found");
    auto wrong = http_call(d.port(), "DELETE", "/api/v1/jobs");
    CHECK(wrong.status == 405);
    CHECK(wrong.headers["allow"] == "GET");
    CHECK(error_code(wrong) == "method_not_allowed");
    auto bad_target = http_raw(d.port(), "GET /a%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    CHECK(bad_target.status == 400);
    CHECK_THAT(d.log(), Contains("listening on 127.0.0.1:" + std::to_string(d.port())));
}

TEST_CASE("jobs list and detail show the schedule in words and the next five fire times",
          "[e2e][http]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    auto list = body_of(http_call(d.port(), "GET", "/api/v1/jobs"));
    REQUIRE(list["jobs"].size() == 5);
    CHECK(list["jobs"][0]["name"] == "hello");
    CHECK(list["jobs"][0]["paused"] == false);
    auto detail = http_call(d.port(), "GET", "/api/v1/jobs/hello");
    REQUIRE(detail.status == 200);
    auto j = body_of(detail);
    CHECK(j["schedule"] == "30 2 * * *");
    CHECK_THAT(j["schedule_description"].get<std::string>(), Contains("02:30"));
    REQUIRE(j["next_fire_times"].size() == 5);
    CHECK_THAT(j["next_fire_times"][0].get<std::string>(), Contains("T02:30:00+00:00"));
    CHECK(j["tasks"].size() == 2);
    CHECK(j["tasks"][1]["depends_on"] == json::array({"greet"}));
    CHECK_FALSE(detail.body.find("echo") != std::string::npos);  // task bodies are not shown
    CHECK(j["recent_runs"].empty());
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/nope").status == 404);
}

TEST_CASE("trigger creates a run and the same Idempotency-Key returns the same run",
          "[e2e][http]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    const header_list key{{"Idempotency-Key", "deploy-42"}};
    auto first = http_call(d.port(), "POST", "/api/v1/jobs/hello/runs",
                           R"({"params":{"who":"sluice"}})", key);
    REQUIRE(first.status == 201);
    const auto run = body_of(first)["run_id"].get<std::int64_t>();
    auto again = http_call(d.port(), "POST", "/api/v1/jobs/hello/runs",
                           R"({"params":{"who":"sluice"}})", key);
    CHECK(again.status == 200);
    CHECK(body_of(again)["run_id"] == run);
    CHECK(body_of(again)["created"] == false);

    auto finished = wait_finished(d.port(), run);
    CHECK(finished["state"] == "success");
    CHECK(finished["params"]["who"] == "sluice");
    REQUIRE(finished["tasks"].size() == 2);
    CHECK(finished["tasks"][0]["task"] == "greet");
    CHECK(finished["tasks"][0]["attempts"].size() == 1);
    auto logs =
        http_call(d.port(), "GET", "/api/v1/runs/" + std::to_string(run) + "/tasks/greet/logs");
    CHECK(logs.status == 200);
    CHECK(logs.body == "hello sluice\n");

    auto other = trigger(d.port(), "hello");
    CHECK(other != run);
}

TEST_CASE("trigger errors: 400 bad JSON or params and 404 and 409 paused or overlap and 415",
          "[e2e][http]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    auto bad_json = http_call(d.port(), "POST", "/api/v1/jobs/hello/runs", "{not json");
    CHECK(bad_json.status == 400);
    CHECK(error_code(bad_json) == "malformed_json");
    auto bad_param =
        http_call(d.port(), "POST", "/api/v1/jobs/hello/runs", R"({"params":{"nope":"1"}})");
    CHECK(bad_param.status == 400);
    CHECK(error_code(bad_param) == "bad_params");
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/hello/runs", R"({"params":[1]})").status ==
          400);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/nope/runs").status == 404);
    auto text = http_call(d.port(), "POST", "/api/v1/jobs/hello/runs", "who=x",
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
    CHECK(text.status == 415);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/hello/runs", "{}",
                    {{"Idempotency-Key", std::string(201, 'k')}})
              .status == 400);

    auto paused = http_call(d.port(), "POST", "/api/v1/jobs/hello/pause");
    REQUIRE(paused.status == 200);
    CHECK(body_of(paused)["paused"] == true);
    auto refused = http_call(d.port(), "POST", "/api/v1/jobs/hello/runs");
    CHECK(refused.status == 409);
    CHECK(error_code(refused) == "job_paused");
    CHECK(body_of(http_call(d.port(), "GET", "/api/v1/jobs/hello"))["status"]["paused"] == true);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/hello/unpause").status == 200);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/nope/pause").status == 404);
    trigger(d.port(), "hello");

    const auto busy = trigger(d.port(), "forbid");
    auto overlap = http_call(d.port(), "POST", "/api/v1/jobs/forbid/runs");
    CHECK(overlap.status == 409);
    CHECK(error_code(overlap) == "overlap_forbidden");
    auto cancel = http_call(d.port(), "POST", "/api/v1/runs/" + std::to_string(busy) + "/cancel");
    CHECK(cancel.status == 200);
    CHECK(wait_finished(d.port(), busy)["state"] == "canceled");
    auto again = http_call(d.port(), "POST", "/api/v1/runs/" + std::to_string(busy) + "/cancel");
    CHECK(again.status == 409);
    CHECK(http_call(d.port(), "POST", "/api/v1/runs/999999/cancel").status == 404);
}

TEST_CASE("runs list filters by job and state and pages with a cursor", "[e2e][http]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(trigger(d.port(), "hello"));
    }
    const auto failing = trigger(d.port(), "chain");
    for (auto id : ids) {
        wait_finished(d.port(), id);
    }
    wait_finished(d.port(), failing);
    auto page1 = body_of(http_call(d.port(), "GET", "/api/v1/runs?job=hello&limit=2"));
    REQUIRE(page1["runs"].size() == 2);
    CHECK(page1["runs"][0]["id"] == ids[2]);
    REQUIRE(page1["next_cursor"].is_string());
    auto page2 = body_of(http_call(
        d.port(), "GET",
        "/api/v1/runs?job=hello&limit=2&cursor=" + page1["next_cursor"].get<std::string>()));
    REQUIRE(page2["runs"].size() == 1);
    CHECK(page2["runs"][0]["id"] == ids[0]);
    CHECK(page2["next_cursor"].is_null());
    auto failed = body_of(http_call(d.port(), "GET", "/api/v1/runs?state=failed"));
    REQUIRE(failed["runs"].size() == 1);
    CHECK(failed["runs"][0]["id"] == failing);
    CHECK(http_call(d.port(), "GET", "/api/v1/runs?state=bogus").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/runs?limit=0").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/runs?cursor=abc").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/runs/abc").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/runs/424242").status == 404);
    CHECK(http_call(d.port(), "GET", "/api/v1/runs/" + std::to_string(failing) + "/tasks/nope/logs")
              .status == 404);
}

TEST_CASE(
    "retry reruns failed tasks and their downstream and keeps successful ones and mark sets a "
    "task's state",
    "[e2e][http]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    const std::string flag_dir = d.dir().string();
    REQUIRE(
        http_call(d.port(), "PUT", "/api/v1/variables/flag_dir", json{{"value", flag_dir}}.dump())
            .status == 200);
    const auto run = trigger(d.port(), "chain");
    auto failed = wait_finished(d.port(), run);
    REQUIRE(failed["state"] == "failed");
    CHECK(failed["tasks"][1]["state"] == "failed");
    CHECK(failed["tasks"][2]["state"] == "upstream_failed");
    const std::string base = "/api/v1/runs/" + std::to_string(run);

    std::ofstream(d.dir() / "ok") << "";
    auto retry = http_call(d.port(), "POST", base + "/retry");
    REQUIRE(retry.status == 200);
    CHECK(body_of(retry)["tasks"] == json::array({"breaks", "after"}));
    auto rerun = wait_finished(d.port(), run);
    CHECK(rerun["state"] == "success");
    CHECK(rerun["tasks"][0]["try_number"] == 1);  // `first` kept its success, not rerun
    CHECK(rerun["tasks"][1]["try_number"] == 2);
    CHECK(rerun["tasks"][1]["state"] == "success");
    CHECK(rerun["tasks"][2]["state"] == "success");
    // The failed try stays in the task's attempts, with its own error.
    const json tries = rerun["tasks"][1]["attempts"];
    REQUIRE(tries.size() == 2);
    CHECK(tries[0]["try"] == 1);
    CHECK(tries[0]["state"] == "failed");
    CHECK(tries[0]["error"]["class"] == "transient");
    CHECK_THAT(tries[0]["error"]["message"].get<std::string>(), Contains("exit"));
    CHECK(tries[0]["finished_at"].is_string());
    CHECK(tries[1]["try"] == 2);
    CHECK(tries[1]["state"] == "success");
    CHECK(tries[1]["error"].is_null());
    auto nothing = http_call(d.port(), "POST", base + "/retry");
    CHECK(nothing.status == 409);

    auto mark = http_call(d.port(), "POST", base + "/tasks/after/mark", R"({"state":"failed"})");
    CHECK(mark.status == 200);
    auto marked = body_of(http_call(d.port(), "GET", base));
    CHECK(marked["tasks"][2]["state"] == "failed");
    CHECK(marked["state"] == "failed");
    CHECK(
        http_call(d.port(), "POST", base + "/tasks/after/mark", R"({"state":"running"})").status ==
        400);
    CHECK(http_call(d.port(), "POST", base + "/tasks/nope/mark", R"({"state":"success"})").status ==
          404);
    CHECK(http_call(d.port(), "POST", "/api/v1/runs/777777/retry").status == 404);
}

TEST_CASE("run detail lists every attempt of a retried task with its own times and error",
          "[e2e][http]") {
    http_daemon d(R"(server:
  listen: "127.0.0.1:0"
store:
  url: "sqlite://var/e2e.db"
jobs:
  flaky:
    tasks:
      third_time:
        type: shell
        retries: {max_attempts: 4, delay: 200ms, backoff: 1}
        # Fails on tries 1 and 2 with a message of its own, succeeds on the third.
        command: 'test "$SLUICE_TRY_NUMBER" -ge 3 || { echo "try $SLUICE_TRY_NUMBER: not yet" >&2; exit 3; }'
)");
    REQUIRE(d.port() != 0);
    const auto run = trigger(d.port(), "flaky");
    auto done = wait_finished(d.port(), run);
    REQUIRE(done["state"] == "success");
    const json task = done["tasks"][0];
    CHECK(task["try_number"] == 3);
    const json tries = task["attempts"];
    INFO(tries.dump());
    REQUIRE(tries.size() == 3);
    for (int i = 0; i < 2; ++i) {
        CHECK(tries[i]["try"] == i + 1);
        CHECK(tries[i]["state"] == "up_for_retry");
        CHECK(tries[i]["error"]["class"] == "transient");
        CHECK_THAT(tries[i]["error"]["message"].get<std::string>(), Contains("3"));
        REQUIRE(tries[i]["started_at"].is_string());
        REQUIRE(tries[i]["finished_at"].is_string());
        CHECK(tries[i]["started_at"] <= tries[i]["finished_at"]);
    }
    CHECK(tries[2]["state"] == "success");
    CHECK(tries[2]["error"].is_null());
    // Each try ran after the previous one ended (RFC 3339 UTC strings order like their times).
    CHECK(tries[0]["finished_at"] <= tries[1]["started_at"]);
    CHECK(tries[1]["finished_at"] <= tries[2]["started_at"]);
    // Each try's log is its own.
    const std::string logs = "/api/v1/runs/" + std::to_string(run) + "/tasks/third_time/logs";
    CHECK_THAT(http_call(d.port(), "GET", logs + "?try=2").body, Contains("try 2: not yet"));

    // The CLI shows them too.
    auto shown = run_sluice({"runs", "show", std::to_string(run), "--server",
                             "http://127.0.0.1:" + std::to_string(d.port())});
    INFO(shown.out << shown.err);
    CHECK(shown.exit_code == 0);
    CHECK_THAT(shown.out, Contains("attempts:"));
    CHECK_THAT(shown.out, Contains("up_for_retry"));
}

TEST_CASE("the event stream delivers a triggered run's transitions in order", "[e2e][http][sse]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    sse_reader events(d.port(), "/api/v1/events");
    REQUIRE(events.status() == 200);
    CHECK(events.headers().at("content-type") == "text/event-stream");
    const auto run = trigger(d.port(), "hello");
    std::vector<std::string> seen;
    while (true) {
        auto e = events.next(20s);
        REQUIRE(e);
        const json j = json::parse(e->data);
        if (j["run"] != run) {
            continue;
        }
        const std::string what =
            e->event + ":" + j["task"].dump() + ":" + j["payload"].value("to", "");
        seen.push_back(what);
        if (e->event == "run.state" && j["payload"]["to"] == "success") {
            break;
        }
    }
    const std::vector<std::string> expected{
        "run.state:null:queued",        "run.state:null:running",
        "task.state:\"greet\":queued",  "task.state:\"greet\":running",
        "task.state:\"greet\":success", "task.state:\"done\":queued",
        "task.state:\"done\":running",  "task.state:\"done\":success",
        "run.state:null:success"};
    CHECK(seen == expected);

    // Metrics a task reports arrive as task.progress events while it runs.
    sse_reader progress(d.port(), "/api/v1/events?kind=task.progress");
    REQUIRE(progress.status() == 200);
    const auto counted = trigger(d.port(), "progress");
    auto e = progress.next(20s);
    REQUIRE(e);
    CHECK(e->event == "task.progress");
    const json p = json::parse(e->data);
    CHECK(p["run"] == counted);
    CHECK(p["task"] == "count");
    CHECK(p["payload"]["metric"] == "rows");
    CHECK(p["payload"]["value"] == 42);
}

TEST_CASE("log follow streams lines while the task runs and ends with the attempt",
          "[e2e][http][sse]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    const auto run = trigger(d.port(), "slow");
    const std::string base = "/api/v1/runs/" + std::to_string(run);
    sse_reader follow(d.port(), base + "/tasks/talk/logs?follow=1");
    REQUIRE(follow.status() == 200);
    auto first = follow.next(20s);
    REQUIRE(first);
    CHECK(first->event == "line");
    CHECK(json::parse(first->data)["text"] == "line 1");
    // The first line arrived while the attempt was still running: it was streamed, not replayed.
    auto during = body_of(http_call(d.port(), "GET", base));
    CHECK(during["tasks"][0]["state"] == "running");
    // ... and on its own: the quiet task's buffered line was flushed, not held for the next.
    CHECK(http_call(d.port(), "GET", base + "/tasks/talk/logs").body == "line 1\n");
    std::vector<std::string> texts{"line 1"};
    std::string end_state;
    while (auto e = follow.next(20s)) {
        if (e->event == "end") {
            end_state = json::parse(e->data)["state"];
            break;
        }
        texts.push_back(json::parse(e->data)["text"]);
    }
    CHECK(texts == std::vector<std::string>{"line 1", "line 2", "line 3", "line 4"});
    CHECK(end_state == "success");
    CHECK_FALSE(follow.next(2s));  // the stream ended
}

TEST_CASE("variables are stored and secret values are write-only and deletes are final",
          "[e2e][http]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    auto put = http_call(d.port(), "PUT", "/api/v1/variables/region", R"({"value":"eu-1"})");
    CHECK(put.status == 200);
    auto get = body_of(http_call(d.port(), "GET", "/api/v1/variables/region"));
    CHECK(get["value"] == "eu-1");
    CHECK(get["secret"] == false);
    auto secret = http_call(d.port(), "PUT", "/api/v1/variables/api_key",
                            R"({"value":"s3cr3t-value","secret":true})");
    CHECK(secret.status == 200);
    CHECK(secret.body.find("s3cr3t-value") == std::string::npos);
    auto hidden = http_call(d.port(), "GET", "/api/v1/variables/api_key");
    CHECK(body_of(hidden)["value"].is_null());
    CHECK(hidden.body.find("s3cr3t-value") == std::string::npos);
    CHECK(http_call(d.port(), "PUT", "/api/v1/variables/bad key", R"({"value":"x"})").status ==
          400);
    CHECK(http_call(d.port(), "PUT", "/api/v1/variables/x", R"({"value":1})").status == 400);
    CHECK(http_call(d.port(), "DELETE", "/api/v1/variables/region").status == 204);
    CHECK(http_call(d.port(), "GET", "/api/v1/variables/region").status == 404);
    CHECK(http_call(d.port(), "DELETE", "/api/v1/variables/region").status == 404);
    CHECK(d.log().find("s3cr3t-value") == std::string::npos);
}

TEST_CASE("metrics pass promtool check metrics and count runs", "[e2e][http][metrics]") {
    // A job scheduled every second, so that schedule lateness has observations.
    http_daemon d(sqlite_config() +
                  "  ticking:\n    schedule: \"* * * * * *\"\n    catchup: none\n    tasks:\n"
                  "      tick: {type: noop}\n");
    REQUIRE(d.port() != 0);
    wait_finished(d.port(), trigger(d.port(), "hello"));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline &&
           http_call(d.port(), "GET", "/metrics")
                   .body.find("sluice_schedule_lateness_seconds_count 0") != std::string::npos) {
        std::this_thread::sleep_for(100ms);
    }
    auto r = http_call(d.port(), "GET", "/metrics");
    CHECK(r.body.find("sluice_schedule_lateness_seconds_count 0") == std::string::npos);
    REQUIRE(r.status == 200);
    CHECK_THAT(r.headers["content-type"], Contains("text/plain; version=0.0.4"));
    for (const char* name :
         {"sluice_runs_total{job=\"hello\",state=\"success\"} 1",
          "sluice_task_attempts_total{job=\"hello\",task=\"greet\",state=\"success\"} 1",
          "sluice_task_duration_seconds_bucket", "sluice_schedule_lateness_seconds_count",
          "sluice_running_tasks", "sluice_queued_tasks", "sluice_store_commit_seconds_count",
          "sluice_build_info", "process_resident_memory_bytes", "process_cpu_seconds_total",
          "process_open_fds",
          "sluice_http_requests_total{method=\"POST\",route=\"/api/v1/jobs/{job}/runs\","
          "status=\"201\"} 1",
          "sluice_http_event_streams 0"}) {
        CHECK_THAT(r.body, Contains(name));
    }
    const auto file = d.dir() / "metrics.txt";
    std::ofstream(file) << r.body;
    auto check = run_process("/bin/sh", {"-c", "promtool check metrics < '" + file.string() + "'"});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
}
