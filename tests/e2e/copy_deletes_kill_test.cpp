// End-to-end: `deletes: detect` (docs/etl.md, "Deleted rows") in the real `sluice serve`, killed
// with -9 three times in the middle of the delete pass, into PostgreSQL and into ClickHouse. The
// sink starts with 30,000 rows; a third of their keys are gone from the source. Every kill lands
// while rows are being deleted: the loop waits until the sink's live row count dropped since the
// daemon (re)started and is still above the source's, then kills after a random 0-100 ms. After
// the restarts the run succeeds, the sink holds exactly the source's keys, the task log shows
// the pass resumed after its committed position, and on ClickHouse no key got two deletion
// versions. Pages are small and paced (300 keys, 30 ms apart: 100 pages) so the kills land
// mid-pass.
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

constexpr long row_count = 30000;
constexpr long gone_count = row_count / 3;  // every third key leaves the source
constexpr int wanted_kills = 3;

void execute(const connector_fixture& f, engine e, const std::string& sql) {
    if (e == engine::clickhouse) {
        sluice::test::clickhouse_run(f.spec(e).url, sql);
        return;
    }
    auto session = connectors::open_sql_session(f.spec(e));
    REQUIRE_OK(session);
    auto done = (*session)->execute(sql, {});
    INFO(sql);
    REQUIRE_OK(done);
}

// A number the query computes (its first cell).
long scalar(const connector_fixture& f, engine e, const std::string& sql) {
    if (e == engine::clickhouse) {
        return std::stol(sluice::test::clickhouse_run(f.spec(e).url, sql));
    }
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
    return std::stol(std::string(batch.at(0, 0)));
}

// The live rows of the sink (ClickHouse: FINAL, not deleted) and their sum of keys.
std::string live_rows(engine e, const std::string& table, const std::string& what) {
    return e == engine::clickhouse
               ? "SELECT " + what + " FROM `" + table + "` FINAL WHERE _deleted = 0"
               : "SELECT " + what + " FROM " + table;
}

void delete_pass_through_kills(engine sink) {
    connector_fixture f;
    const std::string src = f.table(engine::postgres, "delkill_src");
    const std::string dst = f.table(sink, "delkill_dst");
    execute(f, engine::postgres,
            "CREATE TABLE " + src +
                " (id bigint PRIMARY KEY, name text, updated_at timestamp NOT NULL)");
    execute(f, engine::postgres,
            "INSERT INTO " + src +
                " SELECT g, md5(g::text), timestamp '2026-01-01' + g * interval '1 second' FROM "
                "generate_series(1, " +
                std::to_string(row_count) + ") g");
    if (sink == engine::clickhouse) {
        execute(f, sink,
                "CREATE TABLE `" + dst +
                    "` (id Int64, name String, updated_at DateTime('UTC'), _deleted UInt8) ENGINE "
                    "= ReplacingMergeTree(updated_at) ORDER BY id");
        execute(f, sink,
                "INSERT INTO `" + dst +
                    "` SELECT number + 1, MD5(toString(number + 1)), toDateTime('2026-01-01 "
                    "00:00:00', 'UTC') + number + 1, 0 FROM system.numbers LIMIT " +
                    std::to_string(row_count));
    } else {
        execute(f, sink,
                "CREATE TABLE " + dst +
                    " (id bigint PRIMARY KEY, name text, updated_at timestamp NOT NULL)");
        execute(f, sink, "INSERT INTO " + dst + " SELECT * FROM " + src);
    }
    execute(f, engine::postgres, "DELETE FROM " + src + " WHERE id % 3 = 0");

    temp_dir dir;
    const auto config = dir.path() / "sluice.yaml";
    std::ofstream(config) << "server: {listen: \"127.0.0.1:0\"}\n"
                          << "store: {url: \"sqlite://" << (dir.path() / "sluice.db").string()
                          << "\"}\n"
                          << "defaults:\n  retries: {max_attempts: 20, delay: 100ms, backoff: 1}\n"
                          << "connections:\n  src: {type: postgres, url: \""
                          << f.spec(engine::postgres).url
                          << "\"}\n  dst: {type: " << sluice::test::engine_name(sink) << ", url: \""
                          << f.spec(sink).url << "\"}\njobs:\n  move:\n"
                          << "    tasks:\n      copy:\n        type: copy\n"
                          << "        source: {connection: src, table: " << src
                          << ", cursor: [updated_at, id]}\n"
                          << "        sink: {connection: dst, table: " << dst
                          << ", mode: upsert, key: [id]}\n"
                          << "        batch_rows: 300\n        sleep_between_batches: 30ms\n"
                          << "        deletes: detect\n";
    const auto log = dir.path() / "serve.log";
    const auto port_file = dir.path() / "port";
    const std::vector<std::string> args = sluice::test::serve_args_with_port(config, port_file);
    const auto seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> offset_ms(0, 100);
    const std::string count_live =
        live_rows(sink, dst, sink == engine::clickhouse ? "count()" : "count(*)");
    const long left = row_count - gone_count;

    auto daemon = std::make_unique<daemon_process>(args, log);
    sluice::test::trigger_when_ready(port_file, "move");
    long last = scalar(f, sink, count_live);
    REQUIRE(last == row_count);
    for (int kills = 0; kills < wanted_kills; ++kills) {
        // Wait for deletions since the (re)start, so the kill interrupts the pass.
        const auto until = std::chrono::steady_clock::now() + 60s;
        long now = last;
        while (now == last && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(10ms);
            now = scalar(f, sink, count_live);
        }
        INFO(daemon->output());
        REQUIRE(now < last);
        REQUIRE(now > left);  // the pass must still be running: more kills wanted
        std::this_thread::sleep_for(std::chrono::milliseconds(offset_ms(rng)));
        daemon->signal(SIGKILL);
        REQUIRE(daemon->wait_exit(10s) == 128 + SIGKILL);
        last = scalar(f, sink, count_live);
        daemon = std::make_unique<daemon_process>(args, log);
    }

    nlohmann::json finished;
    const auto until = std::chrono::steady_clock::now() + 120s;
    while (finished.is_null() && std::chrono::steady_clock::now() < until) {
        auto r = run_sluice({"runs", "list", "-c", config.string(), "--output", "json"});
        REQUIRE(r.exit_code == 0);
        const auto listed = nlohmann::json::parse(r.out);
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
    REQUIRE(finished.is_object());
    CHECK(finished.at("state") == "success");

    // Exactly the source's keys are left.
    CHECK(scalar(f, sink, count_live) == left);
    CHECK(scalar(f, sink, live_rows(sink, dst, "sum(id)")) ==
          scalar(f, engine::postgres, "SELECT sum(id)::bigint FROM " + src));
    // The attempts after the kills continued the pass after its committed position.
    const auto shown = run_sluice({"runs", "show", "-c", config.string(),
                                   std::to_string(finished.at("id").get<long>()), "--logs"});
    REQUIRE(shown.exit_code == 0);
    CHECK_THAT(shown.out, Catch::Contains("resuming after"));
    if (sink == engine::clickhouse) {
        // One deletion version per deleted key: a page done again after a kill wrote none for
        // the keys it had deleted. (A merge could only collapse duplicates, never add rows.)
        CHECK(scalar(f, sink, "SELECT count() FROM `" + dst + "` WHERE _deleted = 1") ==
              gone_count);
    }
}

}  // namespace

TEST_CASE("deletes: detect into PostgreSQL survives kill -9 in the middle of the delete pass",
          "[e2e][etl][kill][deletes]") {
    delete_pass_through_kills(engine::postgres);
}

TEST_CASE("deletes: detect into ClickHouse survives kill -9 in the middle of the delete pass",
          "[e2e][etl][kill][deletes]") {
    delete_pass_through_kills(engine::clickhouse);
}
