// GET /api/v1/jobs/{job}/grid against the real binary on SQLite and PostgreSQL (docs/api.md#jobs):
// the admin page's runs × tasks grid in one call, paged by cursor.

#include "http_api_support.hpp"
#include "tests/component/store/test_databases.hpp"

namespace sluice::test {

TEMPLATE_TEST_CASE("the grid lists a job's runs newest first with every task's state, paged",
                   "[e2e][http][grid]", sqlite_database, postgres_database) {
    TestType db;
    http_daemon d("server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + db.url() +
                  "\"\nshutdown_grace: 1s\n" + jobs_yaml);
    INFO(d.log());
    REQUIRE(d.port() != 0);
    std::vector<std::int64_t> runs;
    for (int i = 0; i < 3; ++i) {
        runs.push_back(trigger(d.port(), "hello"));
        wait_finished(d.port(), runs.back());
    }
    wait_finished(d.port(), trigger(d.port(), "chain"));  // another job's run stays out

    auto r = http_call(d.port(), "GET", "/api/v1/jobs/hello/grid?limit=2");
    INFO(r.body);
    REQUIRE(r.status == 200);
    json page = body_of(r);
    CHECK(page["job"] == "hello");
    CHECK(page["tasks"] == json{"greet", "done"});
    REQUIRE(page["runs"].size() == 2);
    CHECK(page["runs"][0]["id"] == runs[2]);
    CHECK(page["runs"][1]["id"] == runs[1]);
    for (const auto& run : page["runs"]) {
        CHECK(run["state"] == "success");
        CHECK(run["job"] == "hello");
        CHECK(run["tasks"] == json::parse(R"([{"task":"greet","state":"success","try_number":1},
                                               {"task":"done","state":"success","try_number":1}])"));
    }
    REQUIRE(page["next_cursor"].is_string());

    r = http_call(
        d.port(), "GET",
        "/api/v1/jobs/hello/grid?limit=2&cursor=" + page["next_cursor"].get<std::string>());
    REQUIRE(r.status == 200);
    page = body_of(r);
    REQUIRE(page["runs"].size() == 1);
    CHECK(page["runs"][0]["id"] == runs[0]);
    CHECK(page["next_cursor"].is_null());

    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/nope/grid").status == 404);
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/hello/grid?limit=0").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/hello/grid?limit=101").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/hello/grid?cursor=x").status == 400);
}

}  // namespace sluice::test
