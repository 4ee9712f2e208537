// End-to-end: backfills on the real `sluice serve` over HTTP and through the CLI: both orders,
// dry runs, pause/resume/cancel, errors, and a kill -9 in the middle of a backfill after which a
// restarted daemon completes it with each interval run exactly once.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"
#include "scratch_dir.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

// `hourly` appends its logical time and data interval to DIR/done.txt after `pause` seconds.
std::string config(const scratch_dir& dir, const std::string& store_url,
                   const std::string& pause = "0.05", const std::string& server_extra = "") {
    return "server:\n  listen: \"127.0.0.1:0\"\n" + server_extra + "store:\n  url: \"" + store_url +
           "\"\nshutdown_grace: 1s\n" + R"(
jobs:
  hourly:
    schedule: "0 * * * *"
    catchup: none
    tasks:
      load:
        type: shell
        retries: {max_attempts: 3, delay: 100ms}
        # Only backfill intervals (2025) are recorded: an hourly tick during the test is not.
        command: 'sleep )" +
           pause +
           R"(; case "$SLUICE_LOGICAL_TIME" in 2025*) echo "$SLUICE_LOGICAL_TIME $SLUICE_DATA_INTERVAL_START $SLUICE_DATA_INTERVAL_END" >> )" +
           (dir.path / "done.txt").string() + R"(;; esac'
  manual_only:
    tasks:
      t: {type: noop}
)";
}

json body_of(const http_reply& r) {
    return json::parse(r.body, nullptr, false);
}

std::string error_code(const http_reply& r) {
    const json j = body_of(r);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
}

http_reply post_backfill(std::uint16_t port, const json& body, const header_list& auth = {}) {
    return http_call(port, "POST", "/api/v1/jobs/hourly/backfills", body.dump(), [&] {
        header_list h = auth;
        h.emplace_back("Content-Type", "application/json");
        return h;
    }());
}

std::int64_t start_backfill(std::uint16_t port, const json& body) {
    auto r = post_backfill(port, body);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return body_of(r)["id"].get<std::int64_t>();
}

json get_backfill(std::uint16_t port, std::int64_t id) {
    return body_of(http_call(port, "GET", "/api/v1/backfills/" + std::to_string(id)));
}

json wait_backfill(std::uint16_t port, std::int64_t id, std::chrono::seconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    json j;
    while (std::chrono::steady_clock::now() < deadline) {
        j = get_backfill(port, id);
        const std::string state = j.is_object() ? j.value("state", "") : "";
        if (state == "success" || state == "failed" || state == "canceled") {
            return j;
        }
        std::this_thread::sleep_for(100ms);
    }
    FAIL("backfill " << id << " did not finish: " << j.dump());
    return j;
}

// The runs of backfill `id`, oldest id first.
std::vector<json> runs_of(std::uint16_t port, std::int64_t id) {
    auto page = body_of(http_call(port, "GET", "/api/v1/runs?job=hourly&limit=500"));
    std::vector<json> out;
    for (const auto& r : page["runs"]) {
        if (r.value("backfill_id", json(nullptr)) == json(id)) {
            out.push_back(r);
        }
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<std::string> first_words(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const auto& l : lines) {
        out.push_back(l.substr(0, l.find(' ')));
    }
    return out;
}

}  // namespace

TEST_CASE("backfill over HTTP runs each interval once in either order with its data interval",
          "[e2e][backfill]") {
    scratch_dir dir;
    http_daemon d(config(dir, "sqlite://var/e2e.db"));
    REQUIRE(d.port() != 0);

    const auto newest = start_backfill(d.port(), {{"start", "2025-03-01T00:00:00Z"},
                                                  {"end", "2025-03-01T04:00:00Z"},
                                                  {"order", "newest_first"}});
    auto b = wait_backfill(d.port(), newest);
    CHECK(b["state"] == "success");
    CHECK(b["job"] == "hourly");
    CHECK(b["order"] == "newest_first");
    CHECK(b["reprocess"] == "none");
    CHECK(b["max_active_runs"] == 1);
    CHECK(b["counts"]["planned"] == 4);
    CHECK(b["counts"]["succeeded"] == 4);
    CHECK(b["progress"] == 1.0);
    CHECK(b["cursor"] == "2025-03-01T01:00:00Z");
    CHECK(
        dir.lines_of("done.txt") ==
        std::vector<std::string>{"2025-03-01T04:00:00Z 2025-03-01T03:00:00Z 2025-03-01T04:00:00Z",
                                 "2025-03-01T03:00:00Z 2025-03-01T02:00:00Z 2025-03-01T03:00:00Z",
                                 "2025-03-01T02:00:00Z 2025-03-01T01:00:00Z 2025-03-01T02:00:00Z",
                                 "2025-03-01T01:00:00Z 2025-03-01T00:00:00Z 2025-03-01T01:00:00Z"});
    auto runs = runs_of(d.port(), newest);
    REQUIRE(runs.size() == 4);
    for (const auto& r : runs) {
        CHECK(r["trigger"] == "backfill");
        CHECK(r["state"] == "success");
    }

    // oldest_first over a wider range; reprocess none skips the four that already succeeded.
    const auto oldest = start_backfill(d.port(), {{"start", "2025-03-01T00:00:00Z"},
                                                  {"end", "2025-03-01T06:00:00Z"},
                                                  {"max_active_runs", 1}});
    b = wait_backfill(d.port(), oldest);
    CHECK(b["state"] == "success");
    CHECK(b["order"] == "oldest_first");
    CHECK(b["counts"]["skipped"] == 4);
    CHECK(b["counts"]["created"] == 2);
    auto done = first_words(dir.lines_of("done.txt"));
    REQUIRE(done.size() == 6);
    CHECK(done[4] == "2025-03-01T05:00:00Z");
    CHECK(done[5] == "2025-03-01T06:00:00Z");

    // reprocess all: every interval again, oldest first.
    const auto all = start_backfill(
        d.port(),
        {{"start", "2025-03-01T00:00:00Z"}, {"end", "2025-03-01T03:00:00Z"}, {"reprocess", "all"}});
    CHECK(wait_backfill(d.port(), all)["counts"]["succeeded"] == 3);
    done = first_words(dir.lines_of("done.txt"));
    REQUIRE(done.size() == 9);
    CHECK(std::vector<std::string>(done.begin() + 6, done.end()) ==
          std::vector<std::string>{"2025-03-01T01:00:00Z", "2025-03-01T02:00:00Z",
                                   "2025-03-01T03:00:00Z"});

    auto list = body_of(http_call(d.port(), "GET", "/api/v1/backfills?job=hourly"));
    REQUIRE(list["backfills"].size() == 3);
    CHECK(list["backfills"][0]["id"] == all);
    CHECK(body_of(http_call(d.port(), "GET", "/api/v1/backfills?job=manual_only"))["backfills"]
              .empty());
    // Each backfill's state changes are stored events (and go out on the SSE stream): created
    // and finished.
    CHECK_THAT(d.log(), Contains("backfill=" + std::to_string(all)));
    json events;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
        events = body_of(http_call(d.port(), "GET", "/api/v1/events?kind=backfill.state&limit=100",
                                   "", {{"Accept", "application/json"}}))["events"];
    } while (events.size() < 6 && std::chrono::steady_clock::now() < deadline &&
             (std::this_thread::sleep_for(50ms), true));
    REQUIRE(events.size() == 6);
    CHECK(events[0]["job"] == "hourly");
    CHECK(events[0]["payload"]["backfill_id"] == newest);
    CHECK(events[0]["payload"]["to"] == "running");
    CHECK(events[5]["payload"]["from"] == "running");
    CHECK(events[5]["payload"]["to"] == "success");
}

TEST_CASE("a backfill dry run lists the runs and creates nothing; bad requests are refused",
          "[e2e][backfill]") {
    scratch_dir dir;
    http_daemon d(config(dir, "sqlite://var/e2e.db"));
    REQUIRE(d.port() != 0);
    auto first = start_backfill(
        d.port(), {{"start", "2025-03-01T00:00:00Z"}, {"end", "2025-03-01T02:00:00Z"}});
    wait_backfill(d.port(), first);

    auto dry = post_backfill(d.port(), {{"start", "2025-03-01T00:30:00Z"},
                                        {"end", "2025-03-01T04:00:00Z"},
                                        {"order", "newest_first"},
                                        {"dry_run", true}});
    INFO(dry.body);
    REQUIRE(dry.status == 200);
    auto plan = body_of(dry);
    CHECK(plan["dry_run"] == true);
    CHECK(plan["planned"] == 3);
    CHECK(plan["would_run"] == 2);
    CHECK(plan["would_skip"] == 1);
    REQUIRE(plan["runs"].size() == 3);
    CHECK(plan["runs"][0] == json{{"logical_time", "2025-03-01T04:00:00Z"},
                                  {"data_interval_start", "2025-03-01T03:00:00Z"},
                                  {"data_interval_end", "2025-03-01T04:00:00Z"},
                                  {"existing", "no_run"},
                                  {"action", "run"}});
    CHECK(plan["runs"][2]["logical_time"] == "2025-03-01T02:00:00Z");
    CHECK(plan["runs"][2]["existing"] == "succeeded");
    CHECK(plan["runs"][2]["action"] == "skip");
    CHECK(body_of(http_call(d.port(), "GET", "/api/v1/backfills"))["backfills"].size() == 1);
    CHECK(runs_of(d.port(), first).size() == 2);
    CHECK(dir.lines_of("done.txt").size() == 2);

    struct bad_case {
        json body;
        int status;
        const char* code;
        const char* message;
    };
    for (const auto& c : std::vector<bad_case>{
             {{{"end", "2025-03-01T04:00:00Z"}}, 400, "bad_request", "start is required"},
             {{{"start", "yesterday"}, {"end", "2025-03-01T04:00:00Z"}},
              400,
              "bad_request",
              "start"},
             {{{"start", "2025-03-01T04:00:00Z"}, {"end", "2025-03-01T00:00:00Z"}},
              400,
              "bad_request",
              "is empty"},
             {{{"start", "2025-03-01T00:10:00Z"}, {"end", "2025-03-01T00:50:00Z"}},
              400,
              "bad_request",
              "no complete schedule interval"},
             {{{"start", "2020-01-01T00:00:00Z"}, {"end", "2025-01-01T00:00:00Z"}},
              400,
              "bad_request",
              "more than 10000"},
             {{{"start", "2025-03-01T00:00:00Z"},
               {"end", "2025-03-01T04:00:00Z"},
               {"order", "sideways"}},
              400,
              "bad_request",
              "oldest_first or newest_first"},
             {{{"start", "2025-03-01T00:00:00Z"},
               {"end", "2025-03-01T04:00:00Z"},
               {"max_active_runs", 0}},
              400,
              "bad_request",
              "max_active_runs"},
             {{{"start", "2025-03-01T00:00:00Z"},
               {"end", "2025-03-01T04:00:00Z"},
               {"reprocess", "some"}},
              400,
              "bad_request",
              "none, failed or all"},
             {{{"start", "2025-03-01T00:00:00Z"}, {"end", "2025-03-01T04:00:00Z"}, {"from", 1}},
              400,
              "bad_request",
              "unknown field 'from'"},
         }) {
        auto r = post_backfill(d.port(), c.body);
        INFO(c.body.dump() << " -> " << r.body);
        CHECK(r.status == c.status);
        CHECK(error_code(r) == c.code);
        CHECK_THAT(r.body, Contains(c.message));
    }
    auto manual = http_call(d.port(), "POST", "/api/v1/jobs/manual_only/backfills",
                            R"({"start":"2025-03-01T00:00:00Z","end":"2025-03-02T00:00:00Z"})",
                            {{"Content-Type", "application/json"}});
    CHECK(manual.status == 400);
    CHECK_THAT(manual.body, Contains("has no schedule"));
    auto unknown = http_call(d.port(), "POST", "/api/v1/jobs/nope/backfills",
                             R"({"start":"2025-03-01T00:00:00Z","end":"2025-03-02T00:00:00Z"})",
                             {{"Content-Type", "application/json"}});
    CHECK(unknown.status == 404);
    CHECK(error_code(unknown) == "job_not_found");
    auto missing = http_call(d.port(), "GET", "/api/v1/backfills/999");
    CHECK(missing.status == 404);
    CHECK(error_code(missing) == "backfill_not_found");
    CHECK(http_call(d.port(), "POST", "/api/v1/backfills/999/pause").status == 404);
    CHECK(http_call(d.port(), "GET", "/api/v1/backfills/x").status == 400);
    auto finished =
        http_call(d.port(), "POST", "/api/v1/backfills/" + std::to_string(first) + "/resume");
    CHECK(finished.status == 409);
    CHECK_THAT(finished.body, Contains("is success"));
    CHECK(body_of(http_call(d.port(), "GET", "/api/v1/backfills"))["backfills"].size() == 1);
}

TEST_CASE("backfill pause, resume and cancel over HTTP", "[e2e][backfill]") {
    scratch_dir dir;
    http_daemon d(config(dir, "sqlite://var/e2e.db", "0.6"));
    REQUIRE(d.port() != 0);
    const auto id = start_backfill(
        d.port(), {{"start", "2025-03-01T00:00:00Z"}, {"end", "2025-03-02T00:00:00Z"}});
    auto pause = http_call(d.port(), "POST", "/api/v1/backfills/" + std::to_string(id) + "/pause");
    INFO(pause.body);
    REQUIRE(pause.status == 200);
    CHECK(body_of(pause)["state"] == "paused");
    CHECK(
        http_call(d.port(), "POST", "/api/v1/backfills/" + std::to_string(id) + "/pause").status ==
        409);
    // The run that was active finishes; no further run starts while paused.
    std::this_thread::sleep_for(1500ms);
    auto b = get_backfill(d.port(), id);
    CHECK(b["state"] == "paused");
    const auto created = b["counts"]["created"].get<int>();
    CHECK(created <= 1);
    std::this_thread::sleep_for(700ms);
    CHECK(get_backfill(d.port(), id)["counts"]["created"] == created);
    CHECK(get_backfill(d.port(), id)["counts"]["running"] == 0);

    auto resume =
        http_call(d.port(), "POST", "/api/v1/backfills/" + std::to_string(id) + "/resume");
    REQUIRE(resume.status == 200);
    CHECK(body_of(resume)["state"] == "running");
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (get_backfill(d.port(), id)["counts"]["created"].get<int>() < created + 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    auto cancel =
        http_call(d.port(), "POST", "/api/v1/backfills/" + std::to_string(id) + "/cancel");
    REQUIRE(cancel.status == 200);
    CHECK(body_of(cancel)["state"] == "canceled");
    b = wait_backfill(d.port(), id);
    CHECK(b["state"] == "canceled");
    // The run that was running is canceled; nothing new starts.
    const auto deadline2 = std::chrono::steady_clock::now() + 10s;
    while (get_backfill(d.port(), id)["counts"]["running"] != 0 &&
           std::chrono::steady_clock::now() < deadline2) {
        std::this_thread::sleep_for(100ms);
    }
    b = get_backfill(d.port(), id);
    CHECK(b["counts"]["running"] == 0);
    CHECK(b["counts"]["queued"] == 0);
    CHECK(b["counts"]["canceled"] == 1);
    const auto total = b["counts"]["created"];
    std::this_thread::sleep_for(1s);
    CHECK(get_backfill(d.port(), id)["counts"]["created"] == total);
    CHECK(b["counts"]["planned"] == 24);
    CHECK(
        http_call(d.port(), "POST", "/api/v1/backfills/" + std::to_string(id) + "/resume").status ==
        409);
}

TEST_CASE("a backfill survives kill -9 and completes each interval exactly once after restart",
          "[e2e][backfill][kill]") {
    scratch_dir dir;
    const std::string store = "sqlite://" + (dir.path / "store.db").string();
    const int intervals = 8;
    std::int64_t id = 0;
    {
        http_daemon d(config(dir, store, "0.4"));
        REQUIRE(d.port() != 0);
        id = start_backfill(d.port(), {{"start", "2025-03-01T00:00:00Z"},
                                       {"end", "2025-03-01T08:00:00Z"},
                                       {"order", "newest_first"},
                                       {"max_active_runs", 2}});
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (dir.lines_of("done.txt").size() < 3 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        REQUIRE(dir.lines_of("done.txt").size() >= 3);
        REQUIRE(get_backfill(d.port(), id)["state"] == "running");
        ::kill(d.pid(), SIGKILL);
    }
    http_daemon again(config(dir, store, "0.4"));
    REQUIRE(again.port() != 0);
    auto b = wait_backfill(again.port(), id);
    INFO(b.dump());
    CHECK(b["state"] == "success");
    CHECK(b["counts"]["planned"] == intervals);
    CHECK(b["counts"]["created"] == intervals);
    CHECK(b["counts"]["succeeded"] == intervals);
    auto runs = runs_of(again.port(), id);
    REQUIRE(runs.size() == intervals);
    std::set<std::string> logical;
    for (const auto& r : runs) {
        CHECK(r["state"] == "success");
        logical.insert(r["logical_time"].get<std::string>());
    }
    CHECK(logical.size() == intervals);
    // Every interval's task ran; an attempt cut short by the kill may have run twice.
    auto done = first_words(dir.lines_of("done.txt"));
    CHECK(std::set<std::string>(done.begin(), done.end()) == logical);
    CHECK(done.size() <= intervals + 2);
}

TEST_CASE("cli backfill: dry run table, --wait, list and show, exit codes",
          "[e2e][backfill][cli]") {
    scratch_dir dir;
    auto token_of = [](const std::string& name, const std::string& role) {
        auto r = run_sluice({"token", "new", name, "--role", role});
        REQUIRE(r.exit_code == 0);
        const auto out = lines(r.out);
        REQUIRE(out.size() >= 3);
        return std::pair(out[0].substr(7), out.back());
    };
    const auto [viewer, viewer_line] = token_of("dash", "viewer");
    const auto [op, op_line] = token_of("ci", "operator");
    http_daemon d(config(dir, "sqlite://var/e2e.db", "0.05",
                         "  tokens:\n  " + viewer_line + "\n  " + op_line + "\n"));
    REQUIRE(d.port() != 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(d.port());
    auto as = [&](const std::string& token, std::vector<std::string> args) {
        return run_sluice(args, {"SLUICE_SERVER=" + url, "SLUICE_TOKEN=" + token});
    };

    auto dry = as(op, {"backfill", "hourly", "--from", "2025-03-01T00:00:00Z", "--to",
                       "2025-03-01T03:00:00Z", "--order", "newest_first", "--dry-run"});
    INFO(dry.out << dry.err);
    CHECK(dry.exit_code == 0);
    CHECK_THAT(dry.out, Contains("LOGICAL_TIME"));
    CHECK_THAT(dry.out, Contains("2025-03-01T03:00:00Z"));
    CHECK_THAT(dry.out, Contains("3 run(s) would be created"));
    CHECK(dir.lines_of("done.txt").empty());

    auto dry_json = as(op, {"backfill", "hourly", "--from", "2025-03-01T00:00:00Z", "--to",
                            "2025-03-01T03:00:00Z", "--dry-run", "--output", "json"});
    REQUIRE(dry_json.exit_code == 0);
    CHECK(json::parse(dry_json.out)["runs"].size() == 3);

    auto denied = as(viewer, {"backfill", "hourly", "--from", "2025-03-01T00:00:00Z", "--to",
                              "2025-03-01T03:00:00Z"});
    CHECK(denied.exit_code == 4);

    auto waited = as(op, {"backfill", "hourly", "--from", "2025-03-01T00:00:00Z", "--to",
                          "2025-03-01T03:00:00Z", "--max-active-runs", "2", "--wait"});
    INFO(waited.out << waited.err);
    CHECK(waited.exit_code == 0);
    CHECK_THAT(waited.out, Contains(": success"));
    CHECK_THAT(waited.out, Contains("3 succeeded"));
    CHECK(dir.lines_of("done.txt").size() == 3);

    auto list = as(viewer, {"backfills", "list", "--job", "hourly"});
    INFO(list.out << list.err);
    CHECK(list.exit_code == 0);
    CHECK_THAT(list.out, Contains("success"));
    CHECK_THAT(list.out, Contains("3/3"));
    auto listed = as(viewer, {"backfills", "list", "--output", "json"});
    REQUIRE(listed.exit_code == 0);
    const auto id = json::parse(listed.out)["backfills"][0]["id"].get<std::int64_t>();
    auto show = as(viewer, {"backfills", "show", std::to_string(id), "--output", "json"});
    REQUIRE(show.exit_code == 0);
    CHECK(json::parse(show.out)["counts"]["succeeded"] == 3);

    auto refused = as(op, {"backfills", "pause", std::to_string(id)});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Contains("is success"));
    auto bad = as(op, {"backfill", "manual_only", "--from", "2025-03-01T00:00:00Z", "--to",
                       "2025-03-01T03:00:00Z"});
    CHECK(bad.exit_code == 3);
    CHECK_THAT(bad.err, Contains("has no schedule"));
    auto usage = as(op, {"backfill", "hourly", "--from", "2025-03-01T00:00:00Z", "--to",
                         "2025-03-01T03:00:00Z", "--order", "sideways"});
    CHECK(usage.exit_code == 2);

    // Paused then canceled from the CLI.
    auto started = as(op, {"backfill", "hourly", "--from", "2025-04-01T00:00:00Z", "--to",
                           "2025-04-03T00:00:00Z", "--output", "json"});
    REQUIRE(started.exit_code == 0);
    const auto second = std::to_string(json::parse(started.out)["id"].get<std::int64_t>());
    auto paused = as(op, {"backfills", "pause", second});
    CHECK(paused.exit_code == 0);
    CHECK_THAT(paused.out, Contains("paused"));
    auto resumed = as(op, {"backfills", "resume", second});
    CHECK(resumed.exit_code == 0);
    CHECK_THAT(resumed.out, Contains("running"));
    auto canceled = as(op, {"backfills", "cancel", second, "--output", "json"});
    CHECK(canceled.exit_code == 0);
    CHECK(json::parse(canceled.out)["state"] == "canceled");
}
