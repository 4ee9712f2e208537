// End-to-end: `sluice serve` killed with -9 at 20+ random moments while a copy task moves a
// 1-million-row table, for PostgreSQL -> PostgreSQL, MySQL -> PostgreSQL and PostgreSQL ->
// ClickHouse (docs/etl.md#exactly-once). After the restarts the run succeeds and the sink equals
// the source exactly: row count, distinct keys and a checksum over every column (ClickHouse read
// with FINAL). Every kill lands while rows are moving: the loop waits until the sink's row count
// changed since the daemon (re)started, then kills after a random 0-200 ms. Batches are small
// and paced (2,000 rows, 40 ms apart: about 25 s for the table) so 22 kills land mid-copy.
#include <chrono>
#include <csignal>
#include <fstream>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <date/date.h>
#include <nlohmann/json.hpp>

#include "connectors/sql_session.hpp"
#include "daemon_process.hpp"
#include "manual_trigger.hpp"
#include "process.hpp"
#include "tests/component/connectors/connector_fixture.hpp"

using namespace std::chrono_literals;
using sluice::test::connector_fixture;
using sluice::test::daemon_process;
using sluice::test::engine;
using sluice::test::run_sluice;
using sluice::test::temp_dir;
namespace connectors = sluice::connectors;

namespace {

constexpr long row_count = 1000000;
constexpr int wanted_kills = 22;

// Runs statements on PostgreSQL or MariaDB; fails the test on an error.
void execute(const connector_fixture& f, engine e, const std::string& sql) {
    auto session = connectors::open_sql_session(f.spec(e));
    REQUIRE_OK(session);
    auto done = (*session)->execute(sql, {});
    INFO(sql);
    REQUIRE_OK(done);
}

// The first row of a query, each cell as text ("NULL" for SQL NULL).
std::vector<std::string> query_row(const connector_fixture& f, engine e, const std::string& sql) {
    auto source = f.source(e);
    connectors::read_request r;
    r.query = sql;
    auto reader = source->read(r);
    INFO(sql);
    REQUIRE_OK(reader);
    connectors::row_batch batch;
    auto more = (*reader)->next(batch);
    REQUIRE_OK(more);
    REQUIRE(batch.row_count() >= 1);
    std::vector<std::string> out;
    for (std::size_t c = 0; c < batch.column_count(); ++c) {
        out.push_back(batch.is_null(0, c) ? "NULL" : std::string(batch.at(0, c)));
    }
    return out;
}

long sink_rows(const connector_fixture& f, engine e, const std::string& table) {
    if (e == engine::clickhouse) {
        return std::stol(
            sluice::test::clickhouse_run(f.spec(e).url, "SELECT count() FROM `" + table + "`"));
    }
    return std::stol(query_row(f, e, "SELECT count(*) FROM \"" + table + "\"").at(0));
}

std::string connection_yaml(const connector_fixture& f, engine e) {
    return "    type: " + sluice::test::engine_name(e) + "\n    url: \"" + f.spec(e).url + "\"\n";
}

struct copy_case {
    engine from;
    engine to;
    std::string source_table;
    std::string sink_table;
    std::string sink_mode;  // append (transactional sinks) or upsert (ClickHouse)
};

// Starts the daemon on a job that copies `c` once, kills it 22 times while rows move, and
// returns the finished run (or null when none finished in time).
nlohmann::json copy_through_kills(const connector_fixture& f, const copy_case& c) {
    temp_dir dir;
    const auto config = dir.path() / "sluice.yaml";
    std::ofstream(config) << "server: {listen: \"127.0.0.1:0\"}\n"
                          << "store: {url: \"sqlite://" << (dir.path() / "sluice.db").string()
                          << "\"}\n"
                          << "defaults:\n  retries: {max_attempts: 60, delay: 100ms, backoff: 1}\n"
                          << "connections:\n  src:\n"
                          << connection_yaml(f, c.from) << "  dst:\n"
                          << connection_yaml(f, c.to) << "jobs:\n  move:\n"
                          << "    tasks:\n      copy:\n        type: copy\n"
                          << "        source: {connection: src, table: " << c.source_table
                          << ", cursor: [id]}\n"
                          << "        sink: {connection: dst, table: " << c.sink_table
                          << ", mode: " << c.sink_mode
                          << (c.sink_mode == "upsert" ? ", key: [id]" : "") << "}\n"
                          << "        batch_rows: 2000\n        sleep_between_batches: 40ms\n"
                          // 22 kills of one task: more than the default bound on interruptions
                          // (docs/configuration.md#interruptions), which is there for crash loops.
                          << "        max_interruptions: 100\n";
    const auto log = dir.path() / "serve.log";
    const auto port_file = dir.path() / "port";
    const std::vector<std::string> args = sluice::test::serve_args_with_port(config, port_file);

    const auto seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> offset_ms(0, 200);
    auto daemon = std::make_unique<daemon_process>(args, log);
    sluice::test::trigger_when_ready(port_file, "move");
    int kills = 0;
    long last = sink_rows(f, c.to, c.sink_table);
    while (kills < wanted_kills) {
        // Wait for rows to move since the (re)start, so the kill interrupts a copy in progress.
        const auto until = std::chrono::steady_clock::now() + 60s;
        long now = last;
        while (now == last && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(10ms);
            now = sink_rows(f, c.to, c.sink_table);
        }
        INFO(daemon->output());
        REQUIRE(now != last);
        REQUIRE(now < row_count);  // the copy must still be running: more kills wanted
        std::this_thread::sleep_for(std::chrono::milliseconds(offset_ms(rng)));
        daemon->signal(SIGKILL);
        REQUIRE(daemon->wait_exit(10s) == 128 + SIGKILL);
        ++kills;
        last = sink_rows(f, c.to, c.sink_table);
        daemon = std::make_unique<daemon_process>(args, log);
    }

    nlohmann::json finished;
    const auto until = std::chrono::steady_clock::now() + 180s;
    while (finished.is_null() && std::chrono::steady_clock::now() < until) {
        auto r = run_sluice({"runs", "list", "-c", config.string(), "--output", "json"});
        REQUIRE(r.exit_code == 0);
        const auto listed = nlohmann::json::parse(r.out);  // outlives the loop over its runs
        for (const auto& run : listed.at("runs")) {
            if (run.at("state") != "queued" && run.at("state") != "running") {
                finished = run;
            }
        }
        std::this_thread::sleep_for(250ms);
    }
    daemon->signal(SIGTERM);
    CHECK(daemon->wait_exit(30s) == 0);
    INFO(daemon->output());
    CHECK(kills == wanted_kills);
    if (!finished.is_object()) {
        FAIL("no run finished within 180 s after the kills; rows in the sink: " << sink_rows(
                 f, c.to, c.sink_table));
    }
    return finished;
}

const std::string pg_columns =
    "(id bigint PRIMARY KEY, a integer, b text, c numeric(12,2), d timestamp, e integer)";
// The rows every source holds, as PostgreSQL computes them (the MySQL source is filled with the
// same formulas, so the sink compares against this).
const std::string pg_rows =
    "SELECT g AS id, (g % 1000)::integer AS a, md5(g::text) AS b, "
    "((g % 100000) / 100.0)::numeric(12,2) AS c, timestamp '2026-01-01' + g * interval '1 second' "
    "AS d, (g % 2)::integer AS e FROM generate_series(1, " +
    std::to_string(row_count) + ") g";

// count, distinct keys and an md5 over every column of every row in key order.
std::vector<std::string> pg_checksum(const connector_fixture& f, const std::string& relation) {
    return query_row(f, engine::postgres,
                     "SELECT count(*), count(DISTINCT id), md5(string_agg(concat_ws('|', id, a, b, "
                     "c, to_char(d, 'YYYY-MM-DD HH24:MI:SS'), e), ',' ORDER BY id)) FROM " +
                         relation);
}

}  // namespace

TEST_CASE("copy PostgreSQL -> PostgreSQL survives kill -9 at 20+ moments of a 1M-row load",
          "[e2e][etl][kill]") {
    connector_fixture f;
    const copy_case c{engine::postgres, engine::postgres, f.table(engine::postgres, "kill_src"),
                      f.table(engine::postgres, "kill_dst"), "append"};
    execute(f, engine::postgres, "CREATE TABLE " + c.source_table + " " + pg_columns);
    execute(f, engine::postgres, "INSERT INTO " + c.source_table + " " + pg_rows);
    execute(f, engine::postgres, "CREATE TABLE " + c.sink_table + " " + pg_columns);

    const auto run = copy_through_kills(f, c);
    REQUIRE(run.is_object());
    CHECK(run.at("state") == "success");
    const auto expected = pg_checksum(f, c.source_table);
    CHECK(expected.at(0) == std::to_string(row_count));
    CHECK(pg_checksum(f, c.sink_table) == expected);
}

TEST_CASE("copy MySQL -> PostgreSQL survives kill -9 at 20+ moments of a 1M-row load",
          "[e2e][etl][kill]") {
    connector_fixture f;
    const copy_case c{engine::mysql, engine::postgres, f.table(engine::mysql, "kill_src"),
                      f.table(engine::postgres, "kill_dst"), "append"};
    execute(f, engine::mysql,
            "CREATE TABLE `" + c.source_table +
                "` (id BIGINT PRIMARY KEY, a INT, b VARCHAR(32), c DECIMAL(12,2), d DATETIME, "
                "e INT)");
    // seq_1_to_N: MariaDB's built-in Sequence engine.
    execute(f, engine::mysql,
            "INSERT INTO `" + c.source_table +
                "` SELECT seq, seq % 1000, MD5(seq), (seq % 100000) / 100, "
                "TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND, seq % 2 FROM seq_1_to_" +
                std::to_string(row_count));
    execute(f, engine::postgres, "CREATE TABLE " + c.sink_table + " " + pg_columns);

    const auto run = copy_through_kills(f, c);
    REQUIRE(run.is_object());
    CHECK(run.at("state") == "success");
    const auto expected = pg_checksum(f, "(" + pg_rows + ") expected");
    CHECK(pg_checksum(f, c.sink_table) == expected);
}

TEST_CASE("copy PostgreSQL -> ClickHouse survives kill -9 at 20+ moments of a 1M-row load",
          "[e2e][etl][kill]") {
    connector_fixture f;
    const copy_case c{engine::postgres, engine::clickhouse, f.table(engine::postgres, "kill_src"),
                      f.table(engine::clickhouse, "kill_dst"), "upsert"};
    execute(f, engine::postgres, "CREATE TABLE " + c.source_table + " " + pg_columns);
    execute(f, engine::postgres, "INSERT INTO " + c.source_table + " " + pg_rows);
    const auto ch = f.spec(engine::clickhouse).url;
    sluice::test::clickhouse_run(ch, "CREATE TABLE `" + c.sink_table +
                                         "` (id Int64, a Int32, b String, c Decimal(12,2), "
                                         "d DateTime('UTC'), e Int32) ENGINE = "
                                         "ReplacingMergeTree ORDER BY id");

    const auto run = copy_through_kills(f, c);
    REQUIRE(run.is_object());
    CHECK(run.at("state") == "success");
    // ClickHouse and PostgreSQL share no hash function: compare exact sums of every column
    // (text by length and by the sum of its first byte) under FINAL, plus count and distinct keys.
    const auto in_pg = query_row(
        f, engine::postgres,
        "SELECT count(*), count(DISTINCT id), sum(id), sum(a), sum(c), "
        "sum(extract(epoch FROM d)::bigint), sum(length(b)), sum(ascii(b)), sum(e) FROM " +
            c.source_table);
    std::string in_ch = sluice::test::clickhouse_run(
        ch,
        "SELECT count(), uniqExact(id), sum(id), sum(a), sum(c), sum(toUInt32(d)), "
        "sum(length(b)), sum(reinterpretAsUInt8(substring(b, 1, 1))), sum(e) FROM `" +
            c.sink_table + "` FINAL FORMAT TabSeparated");
    while (!in_ch.empty() && in_ch.back() == '\n') {
        in_ch.pop_back();
    }
    std::string expected;
    for (const auto& v : in_pg) {
        expected += (expected.empty() ? "" : "\t") + v;
    }
    CHECK(in_ch == expected);
}
