#include "tests/e2e/sink_outage_support.hpp"

#include <cstdlib>
#include <libpq-fe.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "tests/e2e/http_client.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace sluice::test::outage {

std::optional<std::vector<std::string>> pg_try_row(const std::string& url, const std::string& sql) {
    PGconn* conn = PQconnectdb((url + "?connect_timeout=5").c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return std::nullopt;
    }
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);  // DROP ... IF EXISTS notices
    PGresult* res = PQexec(conn, sql.c_str());
    const auto status = PQresultStatus(res);
    const std::string error = PQresultErrorMessage(res);
    std::vector<std::string> out;
    if (status == PGRES_TUPLES_OK && PQntuples(res) > 0) {
        for (int c = 0; c < PQnfields(res); ++c) {
            out.emplace_back(PQgetisnull(res, 0, c) != 0 ? "NULL" : PQgetvalue(res, 0, c));
        }
    }
    PQclear(res);
    PQfinish(conn);
    INFO(sql);
    INFO(error);
    REQUIRE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK));
    return out;
}

std::vector<std::string> pg_row(const std::string& url, const std::string& sql) {
    auto row = pg_try_row(url, sql);
    INFO("cannot connect to " << url << " for: " << sql);
    REQUIRE(row.has_value());
    return *row;
}

void pg_exec(const std::string& url, const std::string& sql) {
    (void)pg_row(url, sql);
}

std::string source_url() {
    const char* url = std::getenv("SLUICE_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
        FAIL("SLUICE_TEST_PG_URL is not set: start the servers with scripts/test-servers.sh");
    }
    return url;
}

source_table::source_table(std::string url)
    : url_(std::move(url)), name_("sink_outage_src_" + std::to_string(::getpid())) {
    pg_exec(url_, "DROP TABLE IF EXISTS " + name_ + "; CREATE TABLE " + name_ + " " + columns +
                      "; INSERT INTO " + name_ +
                      " SELECT g, g % 1000, md5(g::text), ((g % 100000) / 100.0)::numeric(12,2), "
                      "timestamp '2026-01-01' + g * interval '1 second', g % 7 FROM "
                      "generate_series(1, " +
                      std::to_string(row_count) + ") g");
}

source_table::~source_table() {
    (void)pg_try_row(url_, "DROP TABLE IF EXISTS " + name_);
}

std::vector<std::string> checksum(const std::string& url, const std::string& table) {
    return pg_row(url,
                  "SELECT count(*), count(DISTINCT id), md5(string_agg(concat_ws('|', id, a, b, c, "
                  "to_char(d, 'YYYY-MM-DD HH24:MI:SS'), e), ',' ORDER BY id)) FROM " +
                      table);
}

std::string daemon_config(const std::string& source, const std::string& sink,
                          const std::string& source_table, const std::string& sink_table,
                          const std::string& connect_timeout, const std::string& task_keys,
                          const std::string& sink_type) {
    return "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"sqlite://var/sluice.db\"\n"
           "shutdown_grace: 1s\nconnections:\n  src: {type: postgres, url: \"" +
           source + "\"}\n  dst: {type: " + sink_type + ", url: \"" + sink +
           "\", connect_timeout: " + connect_timeout +
           "}\njobs:\n  load:\n    retries: " + retries +
           "\n    tasks:\n      copy:\n        type: copy\n" + task_keys +
           "        source: {connection: src, table: " + source_table +
           ", cursor: [id]}\n        sink: {connection: dst, table: " + sink_table +
           ", mode: append}\n        batch_rows: " + std::to_string(batch_rows) +
           "\n        sleep_between_batches: 100ms\n";
}

std::int64_t trigger(std::uint16_t port) {
    auto r = test::http_call(port, "POST", "/api/v1/jobs/load/runs", "{}");
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["run_id"].get<std::int64_t>();
}

json get_run(std::uint16_t port, std::int64_t run) {
    auto r = test::http_call(port, "GET", "/api/v1/runs/" + std::to_string(run));
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
}

namespace {

bool finished(const json& run) {
    const std::string state = run.value("state", "");
    return state != "queued" && state != "running";
}

}  // namespace

json wait_finished(std::uint16_t port, std::int64_t run, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    json j = get_run(port, run);
    while (!finished(j) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        j = get_run(port, run);
    }
    INFO(j.dump());
    REQUIRE(finished(j));
    return j;
}

std::vector<json> task_transitions(std::uint16_t port, std::int64_t run) {
    std::vector<json> out;
    std::int64_t after = 0;
    for (;;) {
        auto r = test::http_call(
            port, "GET", "/api/v1/events?kind=task.state&limit=1000&after=" + std::to_string(after),
            "", {{"Accept", "application/json"}});
        INFO(r.body);
        REQUIRE(r.status == 200);
        const json page = json::parse(r.body);
        for (const auto& e : page["events"]) {
            if (e["run"] == run) {
                out.push_back(e["payload"]);
            }
        }
        if (page["next_after"].is_null()) {
            return out;
        }
        after = page["next_after"].get<std::int64_t>();
    }
}

std::string store_checkpoint(const std::filesystem::path& db) {
    sqlite3* conn = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    const char* sql =
        "SELECT value FROM checkpoints WHERE job = 'load' AND task = 'copy' AND key = 'mark'";
    REQUIRE(sqlite3_prepare_v2(conn, sql, -1, &stmt, nullptr) == SQLITE_OK);
    std::string value;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return value;
}

}  // namespace sluice::test::outage
