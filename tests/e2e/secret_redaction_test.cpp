// End-to-end: a password holding '/', '?', '#', '@' and "%2F" never leaves the daemon. One
// configuration puts it in every place a URL can carry it (the PostgreSQL store's URL, a
// MariaDB connection that refuses it, a PostgreSQL connection nobody listens on, and a URL that
// writes it unescaped); the real `sluice serve` runs a job that fails on each. Nothing the
// daemon says anywhere holds the password or a piece of it: its log, `sluice validate`, the run
// and its task errors over the API, the events, the event stream, the webhook notification
// and /readyz (docs/configuration.md, "Interpolated values are secrets").
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../component/store/test_databases.hpp"
#include "http_api_support.hpp"
#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"
#include "scratch_dir.hpp"
#include "webhook_receiver.hpp"

using nlohmann::json;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

// The password as the server would receive it, and as it is written in a URL.
const std::string password = "Zq/7?Kx#w@Vb%2Fj";
const std::string encoded = "Zq%2F7%3FKx%23w%40Vb%252Fj";
// Pieces of it no message may hold (any of them would let a reader rebuild the rest).
const std::vector<std::string> pieces = {"Zq", "7?Kx", "Kx#w", "Vb%", "%2Fj", "2Fj", "%252F"};

void check_clean(const std::string& where, const std::string& text) {
    INFO(where << ": " << text);
    for (const std::string& piece : pieces) {
        CHECK(text.find(piece) == std::string::npos);
    }
}

// "scheme://user[:pw]@host..." with the password `pw` (replaced or added).
std::string with_password(const std::string& url, const std::string& pw) {
    const auto scheme_end = url.find("://") + 3;
    const auto at = url.find('@', scheme_end);
    REQUIRE(at != std::string::npos);
    const std::string userinfo = url.substr(scheme_end, at - scheme_end);
    const std::string user = userinfo.substr(0, userinfo.find(':'));
    return url.substr(0, scheme_end) + user + ":" + pw + url.substr(at);
}

std::string mysql_url() {
    const char* url = std::getenv("SLUICE_TEST_MYSQL_URL");
    REQUIRE(url != nullptr);  // started by scripts/test-servers.sh
    return url;
}

}  // namespace

TEST_CASE("secrets: a password with / ? # @ %2F appears nowhere the daemon writes",
          "[e2e][secrets]") {
    webhook_receiver receiver;
    postgres_database store;
    scratch_dir dir("sluice-secrets");
    const std::string store_url = with_password(store.url(), encoded);  // trust auth: accepted
    const std::string config = "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + store_url +
                               "\"\nshutdown_grace: 1s\nconnections:\n"
                               "  maria: {type: mysql, url: \"" +
                               with_password(mysql_url(), encoded) +
                               "\"}\n"
                               "  nobody: {type: postgres, url: \"postgresql://etl:" +
                               encoded +
                               "@127.0.0.1:1/app\", connect_timeout: 2s}\n"
                               "  unescaped: {type: postgres, url: \"postgresql://etl:" +
                               password + "@127.0.0.1:1/app\"}\n" + R"(jobs:
  leaks:
    notify: {on: [failure], webhook: "http://127.0.0.1:)" +
                               std::to_string(receiver.port()) + R"(/hook"}
    tasks:
      on_maria: {type: sql, connection: maria, sql: "SELECT 1"}
      on_nobody: {type: sql, connection: nobody, sql: "SELECT 1"}
      on_unescaped: {type: sql, connection: unescaped, sql: "SELECT 1"}
)";
    const std::string file = (dir.path / "sluice.yaml").string();
    {
        std::ofstream out(file);
        out << config;
    }
    const auto validated = run_sluice({"validate", "-c", file, "--next", "1"});
    INFO(validated.out << validated.err);
    CHECK(validated.exit_code == 0);
    check_clean("sluice validate", validated.out + validated.err);

    http_daemon d(config);
    REQUIRE(d.port() != 0);
    sse_reader stream(d.port(), "/api/v1/events", {{"Accept", "text/event-stream"}});
    REQUIRE(stream.status() == 200);

    const std::int64_t run = trigger(d.port(), "leaks");
    const json finished = wait_finished(d.port(), run);
    CHECK(finished["state"] == "failed");

    const auto detail = http_call(d.port(), "GET", "/api/v1/runs/" + std::to_string(run));
    REQUIRE(detail.status == 200);
    const json run_json = json::parse(detail.body);
    int failed_tasks = 0;
    for (const json& t : run_json["tasks"]) {
        failed_tasks += t["state"] == "failed" ? 1 : 0;
    }
    CHECK(failed_tasks == 3);  // each task really tried its connection
    check_clean("GET /api/v1/runs/{id}", detail.body);
    CHECK(detail.body.find("percent-encode") != std::string::npos);  // the unescaped one says why

    for (const char* task : {"on_maria", "on_nobody", "on_unescaped"}) {
        const auto log = http_call(
            d.port(), "GET", "/api/v1/runs/" + std::to_string(run) + "/tasks/" + task + "/logs");
        check_clean(std::string("task log of ") + task, log.body);
    }
    check_clean("GET /api/v1/events", http_call(d.port(), "GET", "/api/v1/events?limit=500").body);
    std::string streamed;
    while (auto e = stream.next(500ms)) {
        streamed += e->data + "\n";
    }
    CHECK_FALSE(streamed.empty());
    check_clean("the event stream", streamed);

    const auto hooks = receiver.wait_for(1, 20s);
    REQUIRE(hooks.size() == 1);
    check_clean("the webhook notification", hooks.front().body);

    const auto ready = http_call(d.port(), "GET", "/readyz");
    check_clean("/readyz", ready.body);
    check_clean("GET /api/v1/jobs/leaks", http_call(d.port(), "GET", "/api/v1/jobs/leaks").body);

    d.stop();
    check_clean("the daemon's log", d.log());
}
