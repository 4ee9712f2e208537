// End-to-end: notifications (docs/operations.md#notifications) from the real `sluice serve`:
// webhooks received by a real HTTP server in the test (Beast on 127.0.0.1), mail handed to a
// sendmail-interface program (a script that keeps its arguments and standard input), retries of
// failed deliveries, SLA misses, and a receiver that is down while scheduling goes on.
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "daemon_process.hpp"
#include "http_api_support.hpp"
#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"
#include "webhook_receiver.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

// The path of a Slack webhook URL is its secret.
const std::string secret_path = "/services/T000/B000/S3cr3tT0k3nXYZ";

std::string webhook_url(const webhook_receiver& receiver) {
    return "http://127.0.0.1:" + std::to_string(receiver.port()) + secret_path;
}

// A daemon config with fast delivery retries; `jobs` is the `jobs:` mapping's body.
std::string notify_config(const std::string& jobs, const std::string& notifications = "") {
    return "server:\n  listen: \"127.0.0.1:0\"\n  public_url: \"http://sluice.example:8080/\"\n"
           "store:\n  url: \"sqlite://var/e2e.db\"\nshutdown_grace: 1s\n"
           "notifications:\n  retry_delay: 200ms\n  max_attempts: 3\n  timeout: 5s\n" +
           notifications + "jobs:\n" + jobs;
}

json only_body(const received_request& r) {
    return json::parse(r.body, nullptr, false);
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Polls /metrics until it contains `line` (bounded); returns the last text read.
std::string wait_metric(std::uint16_t port, const std::string& line) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::string body;
    while (std::chrono::steady_clock::now() < deadline) {
        body = http_call(port, "GET", "/metrics").body;
        if (body.find(line) != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    return body;
}

// A port on 127.0.0.1 where nothing listens: bound, then closed.
std::uint16_t closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("notify: a failed run posts the failed task with its last 20 log lines",
          "[e2e][notify]") {
    webhook_receiver receiver;
    http_daemon d(notify_config(R"(  breaks:
    notify: {on: [failure], webhook: ")" +
                                webhook_url(receiver) + R"("}
    tasks:
      first: {type: noop}
      load:
        type: shell
        depends_on: [first]
        command: 'for i in $(seq 1 30); do echo "line $i"; done; exit 3'
      after:
        type: noop
        depends_on: [load]
)"));
    REQUIRE(d.port() != 0);
    const std::int64_t run = trigger(d.port(), "breaks");
    CHECK(wait_finished(d.port(), run)["state"] == "failed");
    const auto got = receiver.wait_for(1, 20s);
    REQUIRE(got.size() == 1);
    const received_request& r = got.front();
    CHECK(r.method == "POST");
    CHECK(r.target == secret_path);
    CHECK(r.content_type == "application/json");
    const json body = only_body(r);
    INFO(r.body);
    REQUIRE(body.is_object());
    CHECK(body["event"] == "failure");
    CHECK(body["job"] == "breaks");
    CHECK(body["run"]["id"] == run);
    CHECK(body["run"]["state"] == "failed");
    CHECK(body["run"]["trigger"] == "manual");
    CHECK(body["run"]["url"] == "http://sluice.example:8080/api/v1/runs/" + std::to_string(run));
    // People are sent to the admin page's run view (null in a headless build).
    CHECK(body["run"]["page_url"] ==
          (SLUICE_UI_EMBEDDED ? json("http://sluice.example:8080/runs/" + std::to_string(run))
                              : json(nullptr)));
    // Slack incoming webhooks: a text summary and blocks.
    CHECK_THAT(body["text"].get<std::string>(), Contains("breaks run " + std::to_string(run)));
    CHECK_THAT(body["text"].get<std::string>(), Contains("failed"));
    CHECK_THAT(body["text"].get<std::string>(), Contains("task load"));
    REQUIRE(body["blocks"].is_array());
    CHECK(body["blocks"].size() == 2);
    CHECK_THAT(body["blocks"][1]["text"]["text"].get<std::string>(), Contains("line 30"));
    REQUIRE(body["tasks"].size() == 1);
    const json& task = body["tasks"][0];
    CHECK(task["task"] == "load");
    CHECK(task["state"] == "failed");
    CHECK(task["try_number"] == 1);
    CHECK_THAT(task["error"]["message"].get<std::string>(), Contains("exited with code 3"));
    REQUIRE(task["log_tail"].size() == 20);
    for (int i = 0; i < 20; ++i) {
        CHECK(task["log_tail"][i] == "line " + std::to_string(i + 11));
    }
    CHECK_THAT(wait_metric(d.port(),
                           "sluice_notifications_total{channel=\"webhook\",event="
                           "\"failure\",result=\"delivered\"} 1"),
               Contains("sluice_notifications_total{channel=\"webhook\",event=\"failure\","
                        "result=\"delivered\"} 1"));

    // The webhook URL's path is a secret: not in the log, masked in the job detail.
    const auto detail = body_of(http_call(d.port(), "GET", "/api/v1/jobs/breaks"));
    INFO(detail.dump());
    CHECK(detail["notify"]["webhook"] ==
          "http://127.0.0.1:" + std::to_string(receiver.port()) + "/***");
    CHECK(detail["notify"]["on"] == json::array({"failure"}));
    CHECK(detail.dump().find("S3cr3t") == std::string::npos);
    CHECK_THAT(d.log(), Contains("failure notification delivered by webhook"));
    CHECK(d.log().find("S3cr3t") == std::string::npos);
}

TEST_CASE("notify: success and retry events reach the webhook", "[e2e][notify]") {
    webhook_receiver receiver;
    temp_dir marks;
    http_daemon d(notify_config(R"(  fine:
    notify: {on: [success], webhook: ")" +
                                webhook_url(receiver) + R"("}
    tasks:
      ok: {type: shell, command: 'echo fine'}
  flaky:
    notify: {on: [retry, failure], webhook: ")" +
                                webhook_url(receiver) + R"("}
    retries: {max_attempts: 2, delay: 1s}
    tasks:
      once:
        type: shell
        command: 'echo "try now"; if [ -f "$MARK" ]; then exit 0; fi; touch "$MARK"; echo "first try fails"; exit 1'
        env: {MARK: ")" + (marks.path() / "done").string() +
                                R"("}
)"));
    REQUIRE(d.port() != 0);
    const std::int64_t ok = trigger(d.port(), "fine");
    CHECK(wait_finished(d.port(), ok)["state"] == "success");
    const std::int64_t flaky = trigger(d.port(), "flaky");
    CHECK(wait_finished(d.port(), flaky)["state"] == "success");
    const auto got = receiver.wait_for(2, 20s);
    REQUIRE(got.size() == 2);
    // Only success of `fine` and the retry of `flaky` were asked for (its run succeeded).
    json success;
    json retry;
    for (const auto& r : got) {
        const json b = only_body(r);
        (b["event"] == "success" ? success : retry) = b;
    }
    INFO(success.dump() << "\n" << retry.dump());
    CHECK(success["job"] == "fine");
    CHECK(success["run"]["id"] == ok);
    CHECK(success["run"]["state"] == "success");
    CHECK(success["tasks"].empty());
    CHECK_THAT(success["text"].get<std::string>(), Contains("succeeded"));
    CHECK(retry["event"] == "retry");
    CHECK(retry["job"] == "flaky");
    CHECK(retry["run"]["id"] == flaky);
    REQUIRE(retry["tasks"].size() == 1);
    CHECK(retry["tasks"][0]["task"] == "once");
    CHECK(retry["tasks"][0]["state"] == "up_for_retry");
    CHECK(retry["tasks"][0]["try_number"] == 1);
    CHECK(retry["tasks"][0]["max_tries"] == 2);
    CHECK_THAT(retry["tasks"][0]["log_tail"].dump(), Contains("first try fails"));
    CHECK_THAT(retry["text"].get<std::string>(), Contains("will be retried"));
    std::this_thread::sleep_for(500ms);
    CHECK(receiver.requests().size() == 2);
}

TEST_CASE("notify: sla_miss is raised while a slow run is still running", "[e2e][notify]") {
    webhook_receiver receiver;
    http_daemon d(notify_config(R"(  slow:
    sla: 1s
    notify: {on: [sla_miss], webhook: ")" +
                                webhook_url(receiver) + R"("}
    tasks:
      crawl: {type: shell, command: 'echo started; sleep 4'}
  quick:
    sla: 1m
    notify: {on: [sla_miss], webhook: ")" +
                                webhook_url(receiver) + R"("}
    tasks:
      done: {type: noop}
)"));
    REQUIRE(d.port() != 0);
    const std::int64_t quick = trigger(d.port(), "quick");
    const std::int64_t run = trigger(d.port(), "slow");
    const auto got = receiver.wait_for(1, 10s);
    REQUIRE(got.size() == 1);
    // It came before the run ended.
    CHECK(body_of(http_call(d.port(), "GET", "/api/v1/runs/" + std::to_string(run)))["state"] ==
          "running");
    const json b = only_body(got.front());
    INFO(b.dump());
    CHECK(b["event"] == "sla_miss");
    CHECK(b["job"] == "slow");
    CHECK(b["run"]["id"] == run);
    CHECK(b["run"]["state"] == "running");
    CHECK(b["sla"] == "1s");
    CHECK(b["sla_deadline"].is_string());
    REQUIRE(b["tasks"].size() == 1);
    CHECK(b["tasks"][0]["task"] == "crawl");
    CHECK(b["tasks"][0]["state"] == "running");
    CHECK_THAT(b["text"].get<std::string>(), Contains("missed its SLA"));
    CHECK(wait_finished(d.port(), run)["state"] == "success");
    CHECK(wait_finished(d.port(), quick)["state"] == "success");
    std::this_thread::sleep_for(500ms);
    CHECK(receiver.requests().size() == 1);  // once per run; `quick` finished in time
    CHECK_THAT(http_call(d.port(), "GET", "/metrics").body,
               Contains("sluice_sla_misses_total{job=\"slow\"} 1"));
    CHECK_THAT(d.log(), Contains("SLA missed"));
}

TEST_CASE("notify: a receiver answering 500 twice gets the notification once on the third try",
          "[e2e][notify]") {
    webhook_receiver receiver({500, 500});
    http_daemon d(notify_config(R"(  breaks:
    notify: {on: [failure], webhook: ")" +
                                webhook_url(receiver) + R"("}
    tasks:
      fail: {type: shell, command: 'exit 1'}
)"));
    REQUIRE(d.port() != 0);
    const std::int64_t run = trigger(d.port(), "breaks");
    wait_finished(d.port(), run);
    const auto got = receiver.wait_for(3, 20s);
    REQUIRE(got.size() == 3);
    CHECK(got[0].answered == 500);
    CHECK(got[1].answered == 500);
    CHECK(got[2].answered == 200);
    CHECK(got[0].body == got[2].body);  // the same notification, tried again
    const std::string metrics = wait_metric(
        d.port(),
        "sluice_notifications_total{channel=\"webhook\",event=\"failure\",result=\"delivered\"} 1");
    CHECK_THAT(metrics, Contains("sluice_notifications_total{channel=\"webhook\",event="
                                 "\"failure\",result=\"delivered\"} 1"));
    CHECK(metrics.find("result=\"failed\"") == std::string::npos);
    std::this_thread::sleep_for(700ms);
    CHECK(receiver.requests().size() == 3);  // delivered once: no more tries
    CHECK_THAT(d.log(), Contains("try 1/3 failed"));
    CHECK_THAT(d.log(), Contains("answered HTTP 500"));
    CHECK(d.log().find("S3cr3t") == std::string::npos);

    // The counters pass a strict exposition-format check.
    const auto file = d.dir() / "metrics.txt";
    std::ofstream(file) << metrics;
    auto check = run_process("/bin/sh", {"-c", "promtool check metrics < '" + file.string() + "'"});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
}

TEST_CASE("notify: a receiver that is down is counted and logged while scheduling goes on",
          "[e2e][notify]") {
    const std::string down = "http://127.0.0.1:" + std::to_string(closed_port()) + secret_path;
    http_daemon d(notify_config(R"(  breaks:
    notify: {on: [failure], webhook: ")" +
                                down + R"("}
    tasks:
      fail: {type: shell, command: 'exit 1'}
  ticking:
    schedule: "* * * * * *"
    catchup: none
    notify: {on: [success], webhook: ")" +
                                down + R"("}
    tasks:
      tick: {type: noop}
)"));
    REQUIRE(d.port() != 0);
    const std::int64_t run = trigger(d.port(), "breaks");
    CHECK(wait_finished(d.port(), run)["state"] == "failed");
    const std::string metrics = wait_metric(
        d.port(),
        "sluice_notifications_total{channel=\"webhook\",event=\"failure\",result=\"failed\"} 1");
    CHECK_THAT(metrics, Contains("sluice_notifications_total{channel=\"webhook\",event="
                                 "\"failure\",result=\"failed\"} 1"));
    CHECK_THAT(d.log(), Contains("not delivered after 3 tries"));
    CHECK_THAT(d.log(), Contains("cannot connect to 127.0.0.1"));
    CHECK(d.log().find("S3cr3t") == std::string::npos);
    // Meanwhile the every-second schedule kept running, and manual runs still work.
    json runs;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
        runs = body_of(http_call(d.port(), "GET", "/api/v1/runs?job=ticking&state=success"));
        if (runs["runs"].size() >= 2) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    INFO(runs.dump());
    CHECK(runs["runs"].size() >= 2);
    const std::int64_t again = trigger(d.port(), "breaks");
    CHECK(wait_finished(d.port(), again)["state"] == "failed");
    CHECK_THAT(wait_metric(d.port(),
                           "sluice_notifications_total{channel=\"webhook\",event="
                           "\"success\",result=\"failed\"}"),
               Contains("event=\"success\",result=\"failed\"}"));
    // Tries still waiting for their retry do not hold up a clean stop.
    CHECK(d.stop() == 0);
    CHECK_THAT(d.log(), Contains("shutdown complete"));
}

TEST_CASE("notify: email goes through the sendmail interface with To, Subject and the log tail",
          "[e2e][notify]") {
    temp_dir tmp;
    const auto mailbox = tmp.path() / "mail";
    const auto script = tmp.path() / "sendmail";
    // A program with sendmail's interface: the arguments and the message are kept.
    std::ofstream(script) << "#!/bin/sh\necho \"$@\" > '" << tmp.path().string()
                          << "/args'\ncat > '" << mailbox.string() << ".tmp'\nmv '"
                          << mailbox.string() << ".tmp' '" << mailbox.string() << "'\n";
    ::chmod(script.c_str(), 0755);
    http_daemon d(
        notify_config(R"(  breaks:
    notify: {on: [failure], email: oncall@example.com}
    tasks:
      load:
        type: shell
        command: 'for i in $(seq 1 25); do echo "row $i"; done; sleep 0.3; echo "disk full" >&2; exit 2'
)",
                      "  sendmail: " + script.string() + "\n  from: sluice@example.com\n"));
    REQUIRE(d.port() != 0);
    const std::int64_t run = trigger(d.port(), "breaks");
    CHECK(wait_finished(d.port(), run)["state"] == "failed");
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!std::filesystem::exists(mailbox) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    REQUIRE(std::filesystem::exists(mailbox));
    CHECK(read_file(tmp.path() / "args") == "-t -i\n");
    const std::string mail = read_file(mailbox);
    INFO(mail);
    const auto split = mail.find("\n\n");
    REQUIRE(split != std::string::npos);
    const std::string headers = mail.substr(0, split + 1);
    const std::string body = mail.substr(split + 2);
    CHECK_THAT(headers, Contains("\nTo: oncall@example.com\n"));
    CHECK(headers.rfind("From: sluice@example.com\n", 0) == 0);
    CHECK_THAT(headers,
               Contains("\nSubject: [sluice] breaks run " + std::to_string(run) + " failed\n"));
    CHECK_THAT(headers, Contains("\nDate: "));
    CHECK_THAT(headers, Contains("\nContent-Type: text/plain; charset=utf-8\n"));
    CHECK_THAT(body, Contains("Task load: failed on try 1/1"));
    CHECK_THAT(body, Contains("exited with code 2"));
    CHECK_THAT(
        body, Contains("Link:      http://sluice.example:8080/api/v1/runs/" + std::to_string(run)));
    if (SLUICE_UI_EMBEDDED) {
        CHECK_THAT(body,
                   Contains("Page:      http://sluice.example:8080/runs/" + std::to_string(run)));
    }
    CHECK_THAT(body, Contains("Last 20 log line(s):"));
    CHECK_THAT(body, Contains("  disk full\n"));
    CHECK_THAT(body, Contains("  row 25\n"));
    CHECK(body.find("  row 5\n") == std::string::npos);  // before the last 20
    CHECK_THAT(wait_metric(d.port(),
                           "sluice_notifications_total{channel=\"email\",event="
                           "\"failure\",result=\"delivered\"} 1"),
               Contains("channel=\"email\",event=\"failure\",result=\"delivered\"} 1"));
}

TEST_CASE("notify: a scheduled run's SLA counts from its logical time", "[e2e][notify]") {
    webhook_receiver receiver;
    http_daemon d(notify_config(R"(  ticking:
    schedule: "* * * * * *"
    catchup: none
    concurrency: forbid
    sla: 1s
    notify: {on: [sla_miss], webhook: ")" +
                                webhook_url(receiver) + R"("}
    tasks:
      crawl: {type: shell, command: 'sleep 3'}
)"));
    REQUIRE(d.port() != 0);
    const auto got = receiver.wait_for(1, 15s);
    REQUIRE(got.size() >= 1);
    const json b = only_body(got.front());
    INFO(b.dump());
    CHECK(b["event"] == "sla_miss");
    CHECK(b["run"]["trigger"] == "scheduled");
    REQUIRE(b["run"]["logical_time"].is_string());
    const auto logical = sluice::core::parse_rfc3339(b["run"]["logical_time"].get<std::string>());
    const auto deadline = sluice::core::parse_rfc3339(b["sla_deadline"].get<std::string>());
    REQUIRE(logical.has_value());
    REQUIRE(deadline.has_value());
    CHECK(*deadline - *logical == 1s);
    CHECK_THAT(b["text"].get<std::string>(), Contains("after its scheduled time"));
}
