#include "daemon/notify/notification.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/time.hpp"

using namespace sluice;
using namespace sluice::daemon::notify;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

core::time_point at(const char* rfc3339) {
    return core::parse_rfc3339(rfc3339).value();
}

notification failed_run() {
    notification n;
    n.event = config::notify_event::failure;
    n.run.id = core::run_id{42};
    n.run.job = "nightly";
    n.run.state = scheduler::run_state::failed;
    n.run.trigger = scheduler::trigger_kind::scheduled;
    n.run.logical_time = at("2026-03-01T02:00:00Z");
    n.run.created_at = at("2026-03-01T02:00:01Z");
    n.run.started_at = at("2026-03-01T02:00:02Z");
    n.run.finished_at = at("2026-03-01T02:05:00Z");
    n.run_url = "https://sluice.example/api/v1/runs/42";
    n.raised_at = at("2026-03-01T02:05:00Z");
    task_summary t;
    t.task = "load";
    t.state = scheduler::task_state::failed;
    t.try_number = 3;
    t.max_tries = 3;
    t.error_cls = core::error_class::permanent;
    t.error_message = "exited with code 1\nsecond line";
    t.log_tail = {"a < b & c", "```fence```", "last"};
    n.tasks.push_back(t);
    return n;
}

}  // namespace

TEST_CASE("notify: the summary names job, run, state and the first failed task", "[unit][notify]") {
    CHECK(summary(failed_run()) ==
          "job nightly run 42 failed: task load failed on try 3/3 (permanent): exited with "
          "code 1");
    notification ok = failed_run();
    ok.event = config::notify_event::success;
    ok.run.state = scheduler::run_state::success;
    ok.tasks.clear();
    CHECK(summary(ok) == "job nightly run 42 succeeded in 4m58s");
    notification late = failed_run();
    late.event = config::notify_event::sla_miss;
    late.run.state = scheduler::run_state::running;
    late.sla = 30min;
    CHECK(summary(late) ==
          "job nightly run 42 missed its SLA: not finished 30m after its scheduled time "
          "2026-03-01T02:00:00Z (state running)");
}

TEST_CASE("notify: the webhook body is Slack-compatible and structured", "[unit][notify]") {
    const auto body = nlohmann::json::parse(webhook_body(failed_run()));
    CHECK_THAT(body["text"].get<std::string>(), Contains("[sluice] job nightly run 42 failed"));
    CHECK_THAT(body["text"].get<std::string>(),
               Contains("<https://sluice.example/api/v1/runs/42|open run>"));
    REQUIRE(body["blocks"].size() == 2);
    CHECK(body["blocks"][0]["type"] == "section");
    CHECK(body["blocks"][0]["text"]["type"] == "mrkdwn");
    const std::string task_block = body["blocks"][1]["text"]["text"];
    // mrkdwn markup in log lines is escaped; a fence cannot close the code block early.
    CHECK_THAT(task_block, Contains("a &lt; b &amp; c"));
    CHECK_THAT(task_block, Contains("'''fence'''"));
    CHECK(body["event"] == "failure");
    CHECK(body["run"]["id"] == 42);
    CHECK(body["run"]["logical_time"] == "2026-03-01T02:00:00Z");
    CHECK(body["tasks"][0]["log_tail"] ==
          nlohmann::json::array({"a < b & c", "```fence```", "last"}));
    CHECK(body["tasks"][0]["error"]["class"] == "permanent");
}

TEST_CASE("notify: invalid UTF-8 in a log line does not break the JSON", "[unit][notify]") {
    notification n = failed_run();
    n.tasks[0].log_tail = {std::string("bad \xff\xfe bytes")};
    const auto body = nlohmann::json::parse(webhook_body(n), nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    CHECK_THAT(body["tasks"][0]["log_tail"][0].get<std::string>(), Contains("bytes"));
}

TEST_CASE("notify: long log lines are cut on a UTF-8 boundary", "[unit][notify]") {
    std::string line(max_log_line_bytes - 1, 'x');
    line += "\xc3\xa9tail";  // a two-byte sequence straddling the limit
    const std::string clipped = clip_log_line(line);
    CHECK(clipped == std::string(max_log_line_bytes - 1, 'x') + "...");
    CHECK(clip_log_line("short") == "short");
}

TEST_CASE("notify: the mail has headers for sendmail -t and a readable body", "[unit][notify]") {
    notification n = failed_run();
    n.tasks[0].log_tail = {"one\rtwo"};
    const std::string m = mail_message(n, "sluice@example.com", "oncall@example.com");
    const auto split = m.find("\n\n");
    REQUIRE(split != std::string::npos);
    const std::string headers = m.substr(0, split + 1);
    const std::string body = m.substr(split + 2);
    CHECK(headers.rfind("From: sluice@example.com\nTo: oncall@example.com\n"
                        "Subject: [sluice] nightly run 42 failed\n"
                        "Date: Sun, 01 Mar 2026 02:05:00 +0000\n",
                        0) == 0);
    CHECK_THAT(headers, Contains("Auto-Submitted: auto-generated\n"));
    CHECK_THAT(body, Contains("Link:      https://sluice.example/api/v1/runs/42\n"));
    CHECK_THAT(body, Contains("Task load: failed on try 3/3 (permanent): exited with code 1\n"));
    CHECK_THAT(body, Contains("Error:\n  exited with code 1\n  second line\n"));
    // A carriage return in a log line cannot overwrite what the reader sees.
    CHECK_THAT(body, Contains("  one two\n"));
}

TEST_CASE("notify: with the admin page, people are linked to the run's page, machines to the API",
          "[unit][notify]") {
    notification n = failed_run();
    n.page_url = "https://sluice.example/runs/42";
    const auto body = nlohmann::json::parse(webhook_body(n));
    CHECK_THAT(body["text"].get<std::string>(),
               Contains("<https://sluice.example/runs/42|open run>"));
    CHECK(body["run"]["url"] == "https://sluice.example/api/v1/runs/42");
    CHECK(body["run"]["page_url"] == "https://sluice.example/runs/42");
    const std::string m = mail_message(n, "sluice@example.com", "oncall@example.com");
    CHECK_THAT(m, Contains("Page:      https://sluice.example/runs/42\n"));
    CHECK_THAT(m, Contains("Link:      https://sluice.example/api/v1/runs/42\n"));
    CHECK(nlohmann::json::parse(webhook_body(failed_run()))["run"]["page_url"].is_null());
}
