// GET /api/v1/copies against the real binary on SQLite and PostgreSQL (docs/api.md#copies): every
// copy task with its latest run's figures, its recent runs and the high-water mark it stored,
// after real SQLite -> SQLite copies.

#include <cstdio>

#include <sqlite3.h>

#include "http_api_support.hpp"
#include "tests/component/store/test_databases.hpp"

namespace sluice::test {

namespace {

void sqlite_exec(const std::filesystem::path& db, const std::string& sql) {
    sqlite3* conn = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &conn) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    sqlite3_close(conn);
    INFO(sql);
    REQUIRE(message == "");
    REQUIRE(rc == SQLITE_OK);
}

// Rows `from`..`to` stamped one second apart, as an append-only source writes them.
void insert_rows(const std::filesystem::path& db, int from, int to) {
    std::string sql = "BEGIN;";
    for (int id = from; id <= to; ++id) {
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "2024-01-01 00:%02d:%02d", id / 60, id % 60);
        sql += "INSERT INTO src VALUES (" + std::to_string(id) + ", '" + stamp + "');";
    }
    sqlite_exec(db, sql + "COMMIT;");
}

const std::string copy_jobs = R"(connections:
  src: {type: sqlite, url: "sqlite://src.db"}
  dst: {type: sqlite, url: "sqlite://dst.db"}
jobs:
  hello:
    tasks:
      greet:
        type: shell
        command: 'echo hello'
  load:
    tasks:
      copy:
        type: copy
        source: {connection: src, table: src, cursor: [updated_at, id]}
        sink: {connection: dst, table: dst, mode: upsert, key: [id]}
        batch_rows: 100
        create_table: if_missing
      after:
        type: noop
        depends_on: [copy]
)";

json copies(std::uint16_t port, const std::string& query = "") {
    auto r = http_call(port, "GET", "/api/v1/copies" + query);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return body_of(r)["copies"];
}

}  // namespace

TEMPLATE_TEST_CASE("copies lists every copy task with its latest figures and stored mark",
                   "[e2e][http][copies]", sqlite_database, postgres_database) {
    TestType db;
    http_daemon d("server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + db.url() +
                  "\"\nshutdown_grace: 1s\n" + copy_jobs);
    INFO(d.log());
    REQUIRE(d.port() != 0);

    // Before any run: the task from the configuration, nothing stored yet.
    json list = copies(d.port());
    REQUIRE(list.size() == 1);
    CHECK(list[0]["job"] == "load");
    CHECK(list[0]["task"] == "copy");
    CHECK(list[0]["source"] == "src: table src");
    CHECK(list[0]["sink"] == "dst: table dst (upsert)");
    CHECK(list[0]["cursor"] == json{"updated_at", "id"});
    CHECK(list[0]["batch_rows"] == 100);
    CHECK(list[0]["latest"].is_null());
    CHECK(list[0]["recent"] == json::array());
    CHECK(list[0]["checkpoint"].is_null());

    const auto src = d.dir() / "src.db";
    sqlite_exec(src, "CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at TIMESTAMP NOT NULL)");
    insert_rows(src, 1, 250);
    const auto first = trigger(d.port(), "load");
    REQUIRE(wait_finished(d.port(), first)["state"] == "success");
    list = copies(d.port());
    REQUIRE(list.size() == 1);
    const json& latest = list[0]["latest"];
    CHECK(latest["run"] == first);
    CHECK(latest["task"] == "copy");
    CHECK(latest["state"] == "success");
    CHECK(latest["try_number"] == 1);
    CHECK_FALSE(latest.contains("attempts"));
    CHECK(latest["metrics"]["rows_read"] == 250);
    CHECK(latest["metrics"]["rows_written"] == 250);
    CHECK(latest["metrics"]["batches"] == 3);
    CHECK(latest["metrics"]["done"] == true);
    CHECK(latest["metrics"]["mark"] == json{"2024-01-01 00:04:10", "250"});
    // The mark the copy mirrored to the store after its last batch.
    const json& checkpoint = list[0]["checkpoint"];
    REQUIRE(checkpoint.is_object());
    CHECK(checkpoint["value"]["cursor"] == json{"updated_at", "id"});
    CHECK(checkpoint["value"]["mark"] == json{"2024-01-01 00:04:10", "250"});
    CHECK(checkpoint["updated_at"].is_string());
    REQUIRE(list[0]["recent"].size() == 1);
    CHECK(list[0]["recent"][0]["run"] == first);
    CHECK(list[0]["recent"][0]["rows_written"] == 250);
    CHECK(list[0]["recent"][0]["rows_per_second"].is_number());

    // A second run resumes after the mark: it is the latest, the first one follows in recent.
    insert_rows(src, 251, 270);
    const auto second = trigger(d.port(), "load");
    REQUIRE(wait_finished(d.port(), second)["state"] == "success");
    wait_finished(d.port(), trigger(d.port(), "hello"));  // another job's run changes nothing
    list = copies(d.port());
    REQUIRE(list.size() == 1);
    CHECK(list[0]["latest"]["run"] == second);
    CHECK(list[0]["latest"]["metrics"]["rows_read"] == 20);
    CHECK(list[0]["checkpoint"]["value"]["mark"] == json{"2024-01-01 00:04:30", "270"});
    REQUIRE(list[0]["recent"].size() == 2);
    CHECK(list[0]["recent"][0]["run"] == second);
    CHECK(list[0]["recent"][0]["rows_written"] == 20);
    CHECK(list[0]["recent"][1]["run"] == first);

    CHECK(copies(d.port(), "?recent=1")[0]["recent"].size() == 1);
    CHECK(copies(d.port(), "?job=load").size() == 1);
    CHECK(copies(d.port(), "?job=hello") == json::array());
    CHECK(http_call(d.port(), "GET", "/api/v1/copies?job=nope").status == 404);
    CHECK(http_call(d.port(), "GET", "/api/v1/copies?recent=0").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/copies?recent=101").status == 400);
    CHECK(http_call(d.port(), "GET", "/api/v1/copies?limit=5").status == 400);
}

}  // namespace sluice::test
