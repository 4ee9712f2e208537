// The copy task kind inside the real daemon: a manual run of an incremental SQLite -> SQLite
// copy, checked through the API (the attempt's metrics), /metrics (sluice_etl_rows_total) and
// the event stream (task.progress), then a second run that resumes after the mark.

#include <cstdio>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "tests/e2e/http_client.hpp"
#include "tests/e2e/http_daemon.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using json = nlohmann::json;

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

std::int64_t sqlite_count(const std::filesystem::path& db, const std::string& table) {
    sqlite3* conn = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &conn) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = "SELECT count(*), count(DISTINCT id) FROM " + table;
    REQUIRE(sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const std::int64_t n = sqlite3_column_int64(stmt, 0);
    const std::int64_t distinct = sqlite3_column_int64(stmt, 1);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    CHECK(n == distinct);
    return n;
}

// Rows with increasing stamps (one second apart), as an append-only source writes them.
void insert(const std::filesystem::path& db, int from, int to) {
    std::string sql = "BEGIN;";
    for (int id = from; id <= to; ++id) {
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "2024-01-01 00:%02d:%02d", id / 60, id % 60);
        sql += "INSERT INTO src VALUES (" + std::to_string(id) + ", '" + stamp + "', 'row " +
               std::to_string(id) + "');";
    }
    sqlite_exec(db, sql + "COMMIT;");
}

json wait_finished(std::uint16_t port, std::int64_t run) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    json j;
    while (std::chrono::steady_clock::now() < deadline) {
        auto r = test::http_call(port, "GET", "/api/v1/runs/" + std::to_string(run));
        j = json::parse(r.body, nullptr, false);
        const std::string state = j.is_object() ? j.value("state", "") : "";
        if (!state.empty() && state != "queued" && state != "running") {
            return j;
        }
        std::this_thread::sleep_for(50ms);
    }
    FAIL("run " << run << " did not finish: " << j.dump());
    return j;
}

std::int64_t trigger(std::uint16_t port, const std::string& job = "load") {
    auto r = test::http_call(port, "POST", "/api/v1/jobs/" + job + "/runs", "{}");
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["run_id"].get<std::int64_t>();
}

const char* config = R"(server:
  listen: "127.0.0.1:0"
store:
  url: "sqlite://var/e2e.db"
shutdown_grace: 1s
connections:
  src: {type: sqlite, url: "sqlite://src.db"}
  dst: {type: sqlite, url: "sqlite://dst.db"}
jobs:
  load:
    tasks:
      copy:
        type: copy
        source: {connection: src, table: src, cursor: [updated_at, id]}
        sink: {connection: dst, table: dst, mode: upsert, key: [id]}
        batch_rows: 100
        create_table: if_missing
  slow:
    tasks:
      copy:
        type: copy
        source: {connection: src, table: src, cursor: [updated_at, id]}
        sink: {connection: dst, table: dst_slow, mode: upsert, key: [id]}
        batch_rows: 100
        sleep_between_batches: 1s
        create_table: if_missing
  late:
    tasks:
      copy:
        type: copy
        source: {connection: src, table: stamped, cursor: [stamp, id], lookback: 1h}
        sink: {connection: dst, table: stamped, mode: upsert, key: [id]}
        batch_rows: 100
        create_table: if_missing
)";

}  // namespace

TEST_CASE("e2e copy: a copy run reports progress, metrics and resumes after its mark",
          "[e2e][copy]") {
    test::http_daemon d(config);
    REQUIRE(d.port() != 0);
    const auto src = d.dir() / "src.db";
    sqlite_exec(src,
                "CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at TEXT NOT NULL, "
                "name TEXT)");
    insert(src, 1, 450);
    test::sse_reader events(d.port(), "/api/v1/events?kind=task.progress");
    REQUIRE(events.status() == 200);

    const auto run = trigger(d.port());
    const json done = wait_finished(d.port(), run);
    INFO(done.dump() << "\n" << d.log());
    REQUIRE(done["state"] == "success");
    CHECK(sqlite_count(d.dir() / "dst.db", "dst") == 450);
    // The last progress report is the attempt's metrics.
    const json& task = done["tasks"][0];
    REQUIRE(task.contains("metrics"));
    CHECK(task["metrics"]["rows_written"] == 450);
    CHECK(task["metrics"]["batches"] == 5);
    CHECK(task["metrics"]["done"] == true);
    // ... published live as task.progress events.
    bool final_seen = false;
    while (auto e = events.next(10s)) {
        const json data = json::parse(e->data, nullptr, false);
        if (!data.is_object()) {
            continue;
        }
        json payload = data["payload"];
        if (payload.is_string()) {
            payload = json::parse(payload.get<std::string>(), nullptr, false);
        }
        if (payload.is_object() && payload.value("done", false)) {
            CHECK(payload["rows_written"] == 450);
            final_seen = true;
            break;
        }
    }
    CHECK(final_seen);
    const auto metrics = test::http_call(d.port(), "GET", "/metrics");
    CHECK_THAT(metrics.body,
               Catch::Contains(
                   "sluice_etl_rows_total{job=\"load\",task=\"copy\",direction=\"written\"} 450"));
    CHECK_THAT(metrics.body,
               Catch::Contains(
                   "sluice_etl_rows_total{job=\"load\",task=\"copy\",direction=\"read\"} 450"));

    // A second run reads only the rows after the mark.
    insert(src, 451, 470);
    const auto second = trigger(d.port());
    const json again = wait_finished(d.port(), second);
    REQUIRE(again["state"] == "success");
    CHECK(again["tasks"][0]["metrics"]["rows_read"] == 20);
    CHECK(sqlite_count(d.dir() / "dst.db", "dst") == 470);
}

TEST_CASE("e2e copy: a running copy's progress shows on its task in the run detail",
          "[e2e][copy]") {
    test::http_daemon d(config);
    REQUIRE(d.port() != 0);
    const auto src = d.dir() / "src.db";
    sqlite_exec(src,
                "CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at TEXT NOT NULL, "
                "name TEXT)");
    insert(src, 1, 450);
    auto r = test::http_call(d.port(), "POST", "/api/v1/jobs/slow/runs", "{}");
    REQUIRE(r.status == 201);
    const auto run = json::parse(r.body)["run_id"].get<std::int64_t>();
    // Five batches a second apart: the detail shows the rows written so far while the task runs.
    json seen;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        const json j = json::parse(
            test::http_call(d.port(), "GET", "/api/v1/runs/" + std::to_string(run)).body, nullptr,
            false);
        const json& task = j["tasks"][0];
        const std::string state = task.value("state", "");
        if (state != "pending" && state != "queued" && state != "running") {
            break;  // ended before a report showed
        }
        if (task["state"] == "running" && task["metrics"].value("rows_written", 0) > 0) {
            seen = task;
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    INFO(d.log());
    REQUIRE(seen.is_object());
    CHECK(seen["metrics"]["rows_written"].get<int>() < 450);
    CHECK(seen["metrics"]["done"] == false);
    CHECK(seen["attempts"][0]["metrics"]["rows_written"] == seen["metrics"]["rows_written"]);
    const json done = wait_finished(d.port(), run);
    REQUIRE(done["state"] == "success");
    CHECK(done["tasks"][0]["metrics"]["rows_written"] == 450);
    CHECK(done["tasks"][0]["metrics"]["done"] == true);
}

TEST_CASE("e2e copy: rows read again inside the lookback window are counted apart from new rows",
          "[e2e][copy]") {
    test::http_daemon d(config);
    REQUIRE(d.port() != 0);
    const auto src = d.dir() / "src.db";
    sqlite_exec(src, "CREATE TABLE stamped (id INTEGER PRIMARY KEY, stamp TIMESTAMP NOT NULL)");
    auto add = [&](int from, int to) {
        std::string sql = "BEGIN;";
        for (int id = from; id <= to; ++id) {
            sql += "INSERT INTO stamped VALUES (" + std::to_string(id) +
                   ", '2024-01-01 00:00:" + (id < 10 ? "0" : "") + std::to_string(id) + "');";
        }
        sqlite_exec(src, sql + "COMMIT;");
    };
    add(1, 9);
    auto metrics_of = [&](std::int64_t run) {
        const json done = wait_finished(d.port(), run);
        INFO(done.dump() << "\n" << d.log());
        REQUIRE(done["state"] == "success");
        return done["tasks"][0]["metrics"];
    };
    json m = metrics_of(trigger(d.port(), "late"));
    CHECK(m["rows_read"] == 9);
    CHECK(m["rows_reread"] == 0);
    // The hour of lookback before the mark covers all nine: read again, not new.
    m = metrics_of(trigger(d.port(), "late"));
    CHECK(m["rows_read"] == 0);
    CHECK(m["rows_reread"] == 9);
    CHECK(m["rows_written"] == 9);
    add(10, 11);
    const auto third = trigger(d.port(), "late");
    m = metrics_of(third);
    CHECK(m["rows_read"] == 2);
    CHECK(m["rows_reread"] == 9);
    CHECK(sqlite_count(d.dir() / "dst.db", "stamped") == 11);
    const auto log = test::http_call(d.port(), "GET",
                                     "/api/v1/runs/" + std::to_string(third) + "/tasks/copy/logs");
    CHECK_THAT(log.body, Catch::Contains("2 row(s) read (and 9 read again), 11 written"));
    const auto metrics = test::http_call(d.port(), "GET", "/metrics");
    CHECK_THAT(
        metrics.body,
        Catch::Contains("sluice_etl_rows_total{job=\"late\",task=\"copy\",direction=\"read\"} 11"));
}
