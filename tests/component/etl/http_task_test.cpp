// The http task kind against a real HTTP peer (http_test_server: Boost.Beast on 127.0.0.1).
#include "etl/http_task.hpp"

#include <cstdlib>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/component/etl/attempt_fixture.hpp"
#include "tests/component/etl/http_test_server.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using status = scheduler::task_outcome::status;
using stream = scheduler::output_line::stream;

namespace {

std::string http_yaml(const std::string& body) {
    return "jobs:\n  j:\n    tasks:\n      t:\n        type: http\n" + body;
}

// Every log line of the attempt, all streams, joined.
std::string whole_log(const test::attempt_fixture& f) {
    std::string out;
    for (const auto& line : f.lines()) {
        out += line.text + "\n";
    }
    return out;
}

test::http_test_server answering(int status, std::string body = {}) {
    return test::http_test_server([status, body](const test::received_request&) {
        return test::scripted_reply{status, body};
    });
}

}  // namespace

TEST_CASE("http: method, target, headers and JSON body reach the server; the answer is logged",
          "[etl][http]") {
    ::setenv("SLUICE_TEST_HTTP_TOKEN", "tok-s3cr3t", 1);
    test::http_test_server server([](const test::received_request&) {
        return test::scripted_reply{201, "{\"id\": 17}\nsecond line\n", "application/json"};
    });
    test::attempt_fixture f(
        http_yaml("        method: post\n"
                  "        url: \"" +
                  server.url("/hooks/load?day=2026-01-02") +
                  "\"\n"
                  "        headers:\n"
                  "          X-Trace: abc\n"
                  "          Authorization: \"Bearer ${env:SLUICE_TEST_HTTP_TOKEN}\"\n"
                  "        body: {table: orders, rows: [1, 2], full: true}\n"));
    etl::http_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    const auto got = server.requests();
    REQUIRE(got.size() == 1);
    CHECK(got[0].method == "POST");
    CHECK(got[0].target == "/hooks/load?day=2026-01-02");
    CHECK(got[0].headers.at("x-trace") == "abc");
    CHECK(got[0].headers.at("authorization") == "Bearer tok-s3cr3t");
    CHECK(got[0].headers.at("content-type") == "application/json");
    CHECK(got[0].body == R"({"table":"orders","rows":[1,2],"full":true})");
    CHECK(f.texts(stream::out) == std::vector<std::string>{"{\"id\": 17}", "second line"});
    const std::string log = whole_log(f);
    CHECK_THAT(log, Catch::Contains("answered 201"));
    CHECK_THAT(log, Catch::Contains("X-Trace: abc"));
    CHECK_THAT(log, Catch::Contains("Authorization: ***"));
    CHECK_THAT(log, !Catch::Contains("tok-s3cr3t"));
}

TEST_CASE("http: statuses are classified: 5xx, 429 and 408 transient, other 4xx permanent",
          "[etl][http]") {
    struct expectation {
        int status;
        std::string expected;  // expected_status line, "" for the default
        scheduler::task_outcome::status result;
        core::error_class cls;
    };
    const std::vector<expectation> cases = {
        {503, "", status::failed, core::error_class::transient},
        {500, "", status::failed, core::error_class::transient},
        {429, "", status::failed, core::error_class::transient},
        {408, "", status::failed, core::error_class::transient},
        {404, "", status::failed, core::error_class::permanent},
        {400, "", status::failed, core::error_class::permanent},
        {302, "", status::failed, core::error_class::permanent},
        {204, "", status::success, core::error_class::permanent},
        {404, "        expected_status: [200, 404]\n", status::success,
         core::error_class::permanent},
        {200, "        expected_status: 202\n", status::failed, core::error_class::permanent},
    };
    for (const auto& c : cases) {
        auto server = answering(c.status, "server says " + std::to_string(c.status));
        test::attempt_fixture f(
            http_yaml("        url: \"" + server.url("/x") + "\"\n" + c.expected));
        etl::http_task runner;
        const auto outcome = f.run(runner);
        INFO(c.status << " " << c.expected << ": " << outcome.message);
        CHECK(outcome.result == c.result);
        if (c.result == status::failed) {
            CHECK(outcome.error_class == c.cls);
            CHECK_THAT(outcome.message,
                       Catch::Contains("answered " + std::to_string(c.status)) &&
                           Catch::Contains("server says " + std::to_string(c.status)));
        }
    }
}

TEST_CASE("http: a server that cannot be reached is a transient failure", "[etl][http]") {
    int port = 0;
    {
        auto server = answering(200);
        port = server.port();
    }  // closed: nothing listens on the port any more
    test::attempt_fixture f(
        http_yaml("        url: \"http://127.0.0.1:" + std::to_string(port) + "/x\"\n"));
    etl::http_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    CHECK_THAT(outcome.message, Catch::Contains("cannot connect"));
}

TEST_CASE("http: the deadline abandons a slow request", "[etl][http]") {
    test::http_test_server server([](const test::received_request&) {
        return test::scripted_reply{200, "late", "text/plain", 10s};
    });
    test::attempt_fixture f(http_yaml("        url: \"" + server.url("/slow") + "\"\n"));
    f.context().deadline = std::chrono::system_clock::now() + 300ms;
    etl::http_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::timed_out);
    CHECK(f.elapsed() >= 250ms);
    CHECK(f.elapsed() < 3s);
}

TEST_CASE("http: cancel abandons a running request", "[etl][http]") {
    test::http_test_server server([](const test::received_request&) {
        return test::scripted_reply{200, "late", "text/plain", 10s};
    });
    test::attempt_fixture f(http_yaml("        url: \"" + server.url("/slow") + "\"\n"));
    std::thread canceler([&] {
        std::this_thread::sleep_for(200ms);
        f.stop().request(scheduler::stop_signal::reason::canceled);
    });
    etl::http_task runner;
    const auto outcome = f.run(runner);
    canceler.join();
    CHECK(outcome.result == status::canceled);
    CHECK(f.elapsed() < 3s);
}

TEST_CASE("http: a large response body is logged up to the bound and not read further",
          "[etl][http]") {
    std::string big;
    for (int i = 0; i < 20000; ++i) {
        big += "line " + std::to_string(i) + "\n";
    }
    auto server = answering(200, big);
    test::attempt_fixture f(http_yaml("        url: \"" + server.url("/big") + "\"\n"));
    etl::http_task_options options;
    options.max_logged_body = 1000;
    etl::http_task runner(options);
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::success);
    const auto out = f.texts(stream::out);
    CHECK(out.front() == "line 0");
    std::size_t logged = 0;
    for (const auto& l : out) {
        logged += l.size() + 1;
    }
    CHECK(logged <= 1001);
    CHECK_THAT(whole_log(f), Catch::Contains("response body cut after 1000 bytes"));
}

TEST_CASE("http: a secret url is not logged, nor put in messages", "[etl][http]") {
    ::setenv("SLUICE_TEST_HTTP_KEY", "k3y-xyzzy", 1);
    auto server = answering(500, "boom");
    test::attempt_fixture f(http_yaml("        url: \"" + server.url("/hook?key=") +
                                      "${env:SLUICE_TEST_HTTP_KEY}\"\n"));
    etl::http_task runner;
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    const auto got = server.requests();
    REQUIRE(got.size() == 1);
    CHECK(got[0].target == "/hook?key=k3y-xyzzy");
    CHECK_THAT(outcome.message, !Catch::Contains("k3y-xyzzy"));
    CHECK_THAT(outcome.message, Catch::Contains("url is secret"));
    CHECK_THAT(whole_log(f), !Catch::Contains("k3y-xyzzy"));
}
