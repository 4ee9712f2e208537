// GET .../logs?format=json against the real binary on SQLite and PostgreSQL (docs/api.md#logs-and-
// events-server-sent-events): a task's log read a window at a time and searched in the server.

#include "http_api_support.hpp"
#include "tests/component/store/test_databases.hpp"

namespace sluice::test {

namespace {

const std::string long_log_yaml = R"(
jobs:
  long:
    tasks:
      talk:
        type: shell
        command: 'i=1; while [ $i -le 2500 ]; do echo "row $i of the long log"; i=$((i+1)); done; echo "Needle 100% found" >&2'
)";

}  // namespace

TEMPLATE_TEST_CASE("a task log is read by windows of lines, from its tail, and searched",
                   "[e2e][http][logs]", sqlite_database, postgres_database) {
    TestType db;
    http_daemon d("server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + db.url() +
                  "\"\nshutdown_grace: 1s\n" + long_log_yaml);
    INFO(d.log());
    REQUIRE(d.port() != 0);
    const auto run = trigger(d.port(), "long");
    REQUIRE(wait_finished(d.port(), run)["state"] == "success");
    const std::string base = "/api/v1/runs/" + std::to_string(run) + "/tasks/talk/logs";

    auto r = http_call(d.port(), "GET", base + "?format=json&tail=3");
    INFO(r.body);
    REQUIRE(r.status == 200);
    json page = body_of(r);
    CHECK(page["total"] == 2501);
    CHECK(page["from"] == 2499);
    REQUIRE(page["lines"].size() == 3);
    CHECK(page["lines"][0]["n"] == 2499);
    CHECK(page["lines"][0]["text"] == "row 2499 of the long log");
    CHECK(page["lines"][2]["text"] == "Needle 100% found");
    CHECK(page["lines"][2]["stream"] == "stderr");
    CHECK(page["lines"][2]["try"] == 1);
    CHECK(page["lines"][2]["at"].is_string());
    CHECK(page["lines"][1]["seq"].get<std::int64_t>() <
          page["lines"][2]["seq"].get<std::int64_t>());

    r = http_call(d.port(), "GET", base + "?format=json&from=1200&limit=2");
    REQUIRE(r.status == 200);
    page = body_of(r);
    CHECK(page["total"] == 2501);
    CHECK(page["from"] == 1200);
    REQUIRE(page["lines"].size() == 2);
    CHECK(page["lines"][0]["text"] == "row 1200 of the long log");
    CHECK(page["lines"][1]["n"] == 1201);

    page = body_of(http_call(d.port(), "GET", base + "?format=json"));
    CHECK(page["from"] == 1);
    CHECK(page["lines"].size() == 1000);  // the default window
    page = body_of(http_call(d.port(), "GET", base + "?format=json&from=9000"));
    CHECK(page["total"] == 2501);
    CHECK(page["lines"].empty());

    // The search runs over the whole log in the server, ignoring case, text taken literally.
    r = http_call(d.port(), "GET", base + "?format=json&q=NEEDLE%20100%25");
    REQUIRE(r.status == 200);
    page = body_of(r);
    CHECK(page["truncated"] == false);
    REQUIRE(page["hits"].size() == 1);
    CHECK(page["hits"][0]["n"] == 2501);
    CHECK(page["hits"][0]["text"] == "Needle 100% found");
    page = body_of(http_call(d.port(), "GET", base + "?format=json&q=row%2012&limit=5"));
    CHECK(page["truncated"] == true);
    REQUIRE(page["hits"].size() == 5);
    CHECK(page["hits"][0]["n"] == 12);
    CHECK(page["hits"][1]["n"] == 120);
    CHECK(body_of(http_call(d.port(), "GET", base + "?format=json&q=.*"))["hits"].empty());

    for (const char* bad :
         {"?format=xml", "?format=json&tail=0", "?format=json&tail=5001", "?format=json&limit=5001",
          "?format=json&from=0", "?format=json&from=1&tail=5", "?format=json&tail=5&limit=5",
          "?format=json&q=", "?format=json&q=a&from=3", "?format=json&q=a&limit=1001",
          "?format=json&follow=1", "?format=json&try=1"}) {
        INFO(bad);
        CHECK(http_call(d.port(), "GET", base + bad).status == 400);
    }
    CHECK(http_call(d.port(), "GET", base + "?format=json&q=" + std::string(257, 'a')).status ==
          400);
    CHECK(http_call(d.port(), "GET", "/api/v1/runs/999999/tasks/talk/logs?format=json").status ==
          404);
    CHECK(error_code(http_call(d.port(), "GET",
                               "/api/v1/runs/" + std::to_string(run) +
                                   "/tasks/nope/logs?format=json")) == "task_not_found");
    // The text form is unchanged.
    r = http_call(d.port(), "GET", base + "?format=text");
    REQUIRE(r.status == 200);
    CHECK(r.body.starts_with("row 1 of the long log\nrow 2 of"));
}

}  // namespace sluice::test
