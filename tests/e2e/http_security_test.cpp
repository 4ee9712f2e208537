// End-to-end: the real `sluice serve` on port 0 under the HTTP API's security rules
// (docs/api.md): auth, limits, slowloris, stalled event streams, a PostgreSQL store, SIGTERM.
#include <csignal>
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

TEST_CASE(
    "auth matrix: 401 without a token and viewer reads and operator triggers and admin variables",
    "[e2e][http][auth]") {
    auto token_for = [](const std::string& name, const std::string& role) {
        auto r = run_sluice({"token", "new", name, "--role", role});
        REQUIRE(r.exit_code == 0);
        const auto out = lines(r.out);
        REQUIRE(out.size() >= 3);
        REQUIRE(out[0].starts_with("token: "));
        return std::make_pair(out[0].substr(7), out.back());
    };
    auto [viewer, viewer_line] = token_for("dash", "viewer");
    auto [op, op_line] = token_for("ci", "operator");
    auto [admin, admin_line] = token_for("root", "admin");
    CHECK_THAT(op_line, Contains("role: operator"));
    http_daemon d(sqlite_config("  metrics_auth: true\n  tokens:\n  " + viewer_line + "\n  " +
                                op_line + "\n  " + admin_line + "\n"));
    REQUIRE(d.port() != 0);
    const header_list as_viewer{{"Authorization", "Bearer " + viewer}};
    const header_list as_op{{"Authorization", "Bearer " + op}};
    const header_list as_admin{{"Authorization", "Bearer " + admin}};

    auto anon = http_call(d.port(), "GET", "/api/v1/jobs");
    CHECK(anon.status == 401);
    CHECK(anon.headers["www-authenticate"] == "Bearer realm=\"sluice\"");
    CHECK(
        http_call(d.port(), "GET", "/api/v1/jobs", "", {{"Authorization", "Bearer nope"}}).status ==
        401);
    CHECK(http_call(d.port(), "GET", "/livez").status == 200);
    CHECK(http_call(d.port(), "GET", "/readyz").status == 200);
    CHECK(http_call(d.port(), "GET", "/metrics").status == 401);
    CHECK(http_call(d.port(), "GET", "/metrics", "", as_viewer).status == 200);

    CHECK(http_call(d.port(), "GET", "/api/v1/jobs", "", as_viewer).status == 200);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/hello/runs").status == 401);
    auto denied = http_call(d.port(), "POST", "/api/v1/jobs/hello/runs", "", as_viewer);
    CHECK(denied.status == 403);
    CHECK(error_code(denied) == "forbidden");
    const auto run = trigger(d.port(), "hello", "", as_op);
    wait_finished(d.port(), run, as_op);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/hello/pause", "", as_op).status == 200);
    CHECK(http_call(d.port(), "PUT", "/api/v1/variables/k", R"({"value":"v"})", as_op).status ==
          403);
    CHECK(http_call(d.port(), "GET", "/api/v1/variables/k", "", as_viewer).status == 403);
    CHECK(http_call(d.port(), "PUT", "/api/v1/variables/k", R"({"value":"v"})", as_admin).status ==
          200);
    CHECK(http_call(d.port(), "GET", "/api/v1/variables/k", "", as_admin).status == 200);

    // The audit log names the token of every mutating call, never the token itself.
    auto audit = http_call(d.port(), "GET", "/api/v1/events?kind=audit", "",
                           {{"Authorization", "Bearer " + viewer}, {"Accept", "application/json"}});
    REQUIRE(audit.status == 200);
    INFO(audit.body);
    std::vector<std::string> actors;
    const json audit_events = body_of(audit)["events"];
    for (const auto& e : audit_events) {
        CHECK(e["kind"] == "audit");
        actors.push_back(e["actor"].get<std::string>() + " " +
                         e["payload"]["method"].get<std::string>() + " " +
                         e["payload"]["path"].get<std::string>() + " " +
                         std::to_string(e["payload"]["status"].get<int>()));
    }
    const std::vector<std::string> expected{"api:anonymous POST /api/v1/jobs/hello/runs 401",
                                            "api:dash POST /api/v1/jobs/hello/runs 403",
                                            "api:ci POST /api/v1/jobs/hello/runs 201",
                                            "api:ci POST /api/v1/jobs/hello/pause 200",
                                            "api:ci PUT /api/v1/variables/k 403",
                                            "api:root PUT /api/v1/variables/k 200"};
    CHECK(actors == expected);
    CHECK(audit.body.find(op) == std::string::npos);
    CHECK(d.log().find(op) == std::string::npos);

    // A client cannot forge a log line through a percent-decoded CR or LF in its path.
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/x%0D%0Aforged%20line/runs", "", as_op).status ==
          404);
    const std::string log = d.log();
    CHECK_THAT(log, Contains("audit: api:ci POST /api/v1/jobs/x\\x0d\\x0aforged line/runs -> 404"));
    for (const auto& line : lines(log)) {
        CHECK_FALSE(line.starts_with("forged"));
    }
}

TEST_CASE("a non-loopback listen address without tokens is refused at startup",
          "[e2e][http][auth]") {
    auto r = run_sluice(
        {"serve", "-c", std::string(SLUICE_SOURCE_DIR) + "/tests/e2e/data/open_listen.yaml"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err + r.out, Contains("no server.tokens are configured"));
}

// A reload cannot move the socket (server.listen needs a restart): a new file that listens on
// loopback and drops every token must not open the API bound to 0.0.0.0
// (docs/operations.md#reload).
TEST_CASE("a reload that removes every token while bound to a non-loopback address is refused",
          "[e2e][http][auth][reload]") {
    auto r = run_sluice({"token", "new", "ops", "--role", "admin"});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() >= 3);
    const std::string token = out[0].substr(7);
    const std::string with_token =
        "server:\n  listen: \"0.0.0.0:0\"\n  allow_plaintext_tokens: "
        "true\n  tokens:\n  " +
        out.back() + "\nstore:\n  url: \"sqlite://var/e2e.db\"\n" + jobs_yaml;
    http_daemon d(with_token);
    REQUIRE(d.port() != 0);
    const header_list as_ops{{"Authorization", "Bearer " + token}};
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs").status == 401);

    auto reloads = [&] {
        const json live = body_of(http_call(d.port(), "GET", "/livez"));
        return live["config"]["reloads"].get<int>();
    };
    auto reload_with = [&](const std::string& yaml) {
        const int before = reloads();
        std::ofstream(d.dir() / "sluice.yaml", std::ios::trunc) << yaml;
        REQUIRE(::kill(d.pid(), SIGHUP) == 0);
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (reloads() == before && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        return body_of(http_call(d.port(), "GET", "/livez"))["config"]["last_reload"];
    };
    // The new file alone would pass the startup check (loopback, no tokens).
    CHECK(reload_with(sqlite_config()) == "rejected");
    CHECK_THAT(d.log(), Contains("stays bound to 0.0.0.0"));
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs").status == 401);
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs", "", as_ops).status == 200);
    // Keeping a token, the same reload applies.
    CHECK(reload_with(with_token) == "applied");
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs").status == 401);
    CHECK(d.log().find(token) == std::string::npos);
}

TEST_CASE("oversized bodies get 413 and oversized headers 431", "[e2e][http][limits]") {
    http_daemon d(sqlite_config("  max_body_size: 1KiB\n"));
    REQUIRE(d.port() != 0);
    const std::string big(4096, 'x');
    auto body = http_call(d.port(), "PUT", "/api/v1/variables/x", R"({"value":")" + big + R"("})");
    CHECK(body.status == 413);
    CHECK(error_code(body) == "body_too_large");
    auto header =
        http_call(d.port(), "GET", "/livez", "", {{"X-Big", std::string(17 * 1024, 'h')}});
    CHECK(header.status == 431);
    // Expect: 100-continue gets the go-ahead before the body (curl waits 1 s otherwise).
    auto expect = http_raw(d.port(),
                           "PUT /api/v1/variables/e HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                           "application/json\r\nExpect: 100-continue\r\nContent-Length: "
                           "13\r\nConnection: close\r\n\r\n{\"value\":\"v\"}");
    CHECK(expect.status == 100);
    CHECK_THAT(expect.body, Contains("HTTP/1.1 200 OK"));
    CHECK(http_call(d.port(), "GET", "/livez").status == 200);
}

TEST_CASE("connections beyond max_connections get 429", "[e2e][http][limits]") {
    http_daemon d(sqlite_config("  max_connections: 5\n"));
    REQUIRE(d.port() != 0);
    std::vector<std::unique_ptr<raw_connection>> held;
    for (int i = 0; i < 5; ++i) {
        held.push_back(std::make_unique<raw_connection>(d.port()));
        REQUIRE(held.back()->send("GET /livez HTTP/1.1\r\n"));  // an unfinished request
    }
    // The server counts a connection once it accepted it: on a busy machine the first probes
    // may still be served, so ask until the limit shows (bounded).
    int over = 0;
    for (const auto until = std::chrono::steady_clock::now() + 10s;
         over != 429 && std::chrono::steady_clock::now() < until;) {
        over = http_call(d.port(), "GET", "/livez").status;
    }
    CHECK(over == 429);
    held.clear();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    int status = 0;
    while (status != 200 && std::chrono::steady_clock::now() < deadline) {
        status = http_call(d.port(), "GET", "/livez").status;
        std::this_thread::sleep_for(50ms);
    }
    CHECK(status == 200);
}

TEST_CASE(
    "while 200 slowloris connections are held and malformed requests are sent /livez "
    "keeps answering",
    "[e2e][http][limits][slow]") {
    http_daemon d(sqlite_config("  read_timeout: 3s\n"));
    REQUIRE(d.port() != 0);
    std::vector<std::unique_ptr<raw_connection>> slow;
    for (int i = 0; i < 200; ++i) {
        slow.push_back(std::make_unique<raw_connection>(d.port()));
        REQUIRE(slow.back()->ok());
        slow.back()->send("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    }
    const std::vector<std::string> malformed{
        "BLAH\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        std::string("GET /\0 HTTP/1.1\r\n\r\n", 19),
        "POST /api/v1/jobs/hello/runs HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\rb\r\n\r\n",
        "\r\n\r\n\r\n"};
    // A small seeded fuzzer: valid requests with bytes flipped, inserted or cut off.
    std::mt19937 rng(20261123);
    const std::vector<std::string> seeds{
        "GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "POST /api/v1/jobs/hello/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        "application/json\r\nContent-Length: 24\r\n\r\n{\"params\":{\"who\":\"me\"}}",
        "GET /api/v1/runs?job=hello&limit=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        "x\r\n\r\n"};
    auto mutate = [&](std::string s) {
        const int edits = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < edits && !s.empty(); ++i) {
            const std::size_t at = rng() % s.size();
            switch (rng() % 3) {
                case 0:
                    s[at] = static_cast<char>(rng() % 256);
                    break;
                case 1:
                    s.insert(at, 1, static_cast<char>(rng() % 256));
                    break;
                default:
                    s.resize(at);
            }
        }
        return s;
    };
    int fuzzed = 0;
    std::chrono::milliseconds worst{0};
    for (int round = 0; round < 5; ++round) {
        for (const auto& m : malformed) {
            auto r = http_raw(d.port(), m);
            CHECK(r.status != 200);
        }
        for (int i = 0; i < 40; ++i) {
            http_raw(d.port(), mutate(seeds[rng() % seeds.size()]));
            ++fuzzed;
        }
        for (auto& s : slow) {
            s->send("X-Drip: 1\r\n");  // one more header line, never the end
        }
        const auto start = std::chrono::steady_clock::now();
        auto live = http_call(d.port(), "GET", "/livez");
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        worst = std::max(worst, took);
        CHECK(live.status == 200);
    }
    // The target is 100 ms; on a shared CI machine we assert a generous 1 s and report
    // the figure.
    WARN("worst /livez latency under attack (" << fuzzed << " fuzzed requests): " << worst.count()
                                               << " ms");
    CHECK(worst < 1000ms);
    // The read deadline closes the slowloris connections.
    CHECK(slow.front()->closed_by_peer(10s));
}

TEST_CASE("the API serves runs from a PostgreSQL store", "[e2e][http][postgres]") {
    const char* url = std::getenv("SLUICE_TEST_PG_URL");
    REQUIRE(url != nullptr);  // make test starts PostgreSQL; a missing server is a failure
    // A database of our own so that runs of other suites never meet ours.
    const std::string admin_url = url;
    const std::string name = "sluice_e2e_http_" + std::to_string(::getpid());
    auto created = run_process(
        "/bin/sh", {"-c", "psql -q -v ON_ERROR_STOP=1 '" + admin_url + "' -c 'CREATE DATABASE " +
                              name + " TEMPLATE template0'"});
    INFO(created.err);
    REQUIRE(created.exit_code == 0);
    const std::string db_url = admin_url.substr(0, admin_url.rfind('/') + 1) + name;
    struct drop_database {
        std::string admin, name;
        ~drop_database() {
            run_process("/bin/sh", {"-c", "psql -q '" + admin + "' -c 'DROP DATABASE IF EXISTS " +
                                              name + " WITH (FORCE)'"});
        }
    } dropper{admin_url, name};
    http_daemon d("server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + db_url +
                  "\"\nshutdown_grace: 1s\n" + jobs_yaml);
    INFO(d.log());
    REQUIRE(d.port() != 0);
    CHECK(http_call(d.port(), "GET", "/readyz").status == 200);
    const auto run =
        trigger(d.port(), "hello", R"({"params":{"who":"pg"}})", {{"Idempotency-Key", "pg-1"}});
    auto finished = wait_finished(d.port(), run);
    CHECK(finished["state"] == "success");
    auto logs =
        http_call(d.port(), "GET", "/api/v1/runs/" + std::to_string(run) + "/tasks/greet/logs");
    CHECK(logs.body == "hello pg\n");
    auto listed = body_of(http_call(d.port(), "GET", "/api/v1/runs?job=hello&limit=1"));
    REQUIRE(listed["runs"].size() == 1);
    CHECK(listed["runs"][0]["id"] == run);

    // The database refuses connections: /readyz says so (503 with the reason), /livez does not
    // care, store-backed reads answer 503; then it comes back.
    auto psql = [&](const std::string& sql) {
        return run_process(
            "/bin/sh", {"-c", "psql -q -v ON_ERROR_STOP=1 '" + admin_url + "' -c \"" + sql + "\""});
    };
    REQUIRE(psql("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false").exit_code == 0);
    REQUIRE(psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name +
                 "'")
                .exit_code == 0);
    auto not_ready = http_call(d.port(), "GET", "/readyz");
    CHECK(not_ready.status == 503);
    CHECK(body_of(not_ready)["checks"]["store"] == "unreachable");
    CHECK_FALSE(body_of(not_ready)["reasons"].empty());
    CHECK(http_call(d.port(), "GET", "/livez").status == 200);
    auto read = http_call(d.port(), "GET", "/api/v1/runs");
    CHECK(read.status == 503);
    CHECK(error_code(read) == "store_unavailable");
    REQUIRE(psql("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true").exit_code == 0);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    int status = 0;
    while (status != 200 && std::chrono::steady_clock::now() < deadline) {
        status = http_call(d.port(), "GET", "/readyz").status;
        std::this_thread::sleep_for(100ms);
    }
    CHECK(status == 200);
}

TEST_CASE("SIGTERM stops the daemon cleanly while event streams are open", "[e2e][http][sse]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    sse_reader events(d.port(), "/api/v1/events");
    REQUIRE(events.status() == 200);
    const auto run = trigger(d.port(), "slow");
    sse_reader follow(d.port(),
                      "/api/v1/runs/" + std::to_string(run) + "/tasks/talk/logs?follow=1");
    REQUIRE(follow.status() == 200);
    REQUIRE(follow.next(20s));  // the first line: the task runs
    CHECK(d.stop() == 0);
    while (events.next(5s)) {
    }
    CHECK(events.ended());
}

TEST_CASE("an event-stream client that stops reading is dropped and the daemon keeps serving",
          "[e2e][http][sse][limits]") {
    http_daemon d(sqlite_config("  sse_queue_limit: 4\n"));
    REQUIRE(d.port() != 0);
    raw_connection stalled(d.port(), 2048);
    REQUIRE(stalled.send("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    // Never read: the socket buffers fill, then the stream's queue, then the server drops it.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    int triggered = 0;
    while (d.log().find("fell behind") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        for (int i = 0; i < 20; ++i, ++triggered) {
            http_call(d.port(), "POST", "/api/v1/jobs/chain/runs");
        }
    }
    INFO("runs triggered: " << triggered);
    CHECK_THAT(d.log(), Contains("dropped an event-stream client"));
    CHECK(stalled.closed_by_peer(10s));
    CHECK(http_call(d.port(), "GET", "/livez").status == 200);
}
