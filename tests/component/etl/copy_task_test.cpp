#include "etl/copy_task.hpp"

#include <map>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/sql_session.hpp"
#include "tests/component/connectors/connector_fixture.hpp"
#include "tests/component/etl/attempt_fixture.hpp"
#include "tests/component/etl/sql_probe.hpp"

// The copy task between the real engines started by scripts/test-servers.sh: incremental
// append and upsert with cursor ties across batch boundaries, late rows inside the lookback,
// full_refresh, max_batches_per_run, stop and resume, the ClickHouse batch ledger replayed after
// a crash (injected through copy_task_options::crash_after_insert: a crash between the insert
// and the mark cannot be caused for real at that instant), create_table: if_missing.

using namespace sluice;
using namespace std::chrono_literals;
using status = scheduler::task_outcome::status;

namespace {

// The store's checkpoints of the attempt's (job, task), in memory.
class memory_checkpoints final : public scheduler::checkpoint_access {
public:
    core::result<std::optional<std::string>> get(std::string_view key) override {
        std::lock_guard lock(mutex_);
        const auto it = values_.find(std::string(key));
        return it == values_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    core::result<void> put(std::string_view key, std::string_view value) override {
        std::lock_guard lock(mutex_);
        values_[std::string(key)] = std::string(value);
        return {};
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::string> values_;
};

// A database engine: its connection (YAML flow mapping), statements, and rows as text.
struct database {
    config::connection_type type = config::connection_type::postgres;
    std::string connection;
    std::function<void(const std::string&)> exec;
    std::function<std::vector<test::row>(const std::string&)> rows;
    std::string timestamp_type;  // a column type holding "YYYY-MM-DD HH:MM:SS"
};

void run_session(const config::connection_spec& spec, const std::string& sql) {
    auto session = connectors::open_sql_session(spec);
    REQUIRE_OK(session);
    auto done = (*session)->execute(sql, {});
    if (!done) {
        FAIL(sql << ": " << done.error().message);
    }
}

database postgres_db() {
    const std::string url = test::required_env("SLUICE_TEST_PG_URL");
    config::connection_spec spec;
    spec.type = config::connection_type::postgres;
    spec.url = url;
    return {spec.type, "{type: postgres, url: \"" + url + "\"}",
            [spec](const std::string& sql) { run_session(spec, sql); },
            [url](const std::string& q) { return test::postgres_rows(url, q); }, "timestamp"};
}

database mysql_db() {
    const std::string url = test::required_env("SLUICE_TEST_MYSQL_URL");
    config::connection_spec spec;
    spec.type = config::connection_type::mysql;
    spec.url = url;
    return {spec.type, "{type: mysql, url: \"" + url + "\"}",
            [spec](const std::string& sql) { run_session(spec, sql); },
            [url](const std::string& q) { return test::mysql_rows(url, q); }, "datetime"};
}

database sqlite_db(const std::filesystem::path& file) {
    config::connection_spec spec;
    spec.type = config::connection_type::sqlite;
    spec.url = "sqlite://" + file.string();
    spec.local_path = file;
    return {spec.type, "{type: sqlite, url: \"sqlite://" + file.string() + "\"}",
            [spec](const std::string& sql) { run_session(spec, sql); },
            [file](const std::string& q) { return test::sqlite_rows(file, q); }, "TEXT"};
}

database clickhouse_db() {
    const std::string url = test::required_env("SLUICE_TEST_CLICKHOUSE_URL");
    return {config::connection_type::clickhouse, "{type: clickhouse, url: \"" + url + "\"}",
            [url](const std::string& sql) { test::clickhouse_run(url, sql); },
            [url](const std::string& q) {
                std::vector<test::row> out;
                std::istringstream lines(test::clickhouse_run(url, q + " FORMAT TabSeparated"));
                for (std::string line; std::getline(lines, line);) {
                    test::row r;
                    std::size_t start = 0;
                    for (;;) {
                        const auto tab = line.find('\t', start);
                        r.emplace_back(line.substr(start, tab - start));
                        if (tab == std::string::npos) {
                            break;
                        }
                        start = tab + 1;
                    }
                    out.push_back(std::move(r));
                }
                return out;
            },
            "DateTime"};
}

// The job of the current test: unique, so the checkpoint keys ("job/t") in the shared servers'
// sluice_checkpoints tables never collide between tests and runs.
std::string& current_job() {
    static std::string job = "j";
    return job;
}

std::string new_job() {
    current_job() = test::unique_table("copyjob");
    return current_job();
}

// One copy task "t" of a new job (current_job()) from `src` to `dst`.
std::string copy_yaml(const database& src, const database& dst, const std::string& source,
                      const std::string& sink, const std::string& more) {
    return "connections:\n  src: " + src.connection + "\n  dst: " + dst.connection + "\njobs:\n  " +
           new_job() +
           ":\n    tasks:\n      t:\n        type: copy\n"
           "        source: {connection: src, " +
           source + "}\n        sink: {connection: dst, " + sink + "}\n" + more;
}

// One attempt with its own stop signal; checkpoints mirrored into `store`.
struct attempt {
    attempt(const std::string& yaml, memory_checkpoints& store,
            std::map<std::string, std::string> params = {})
        : fixture(yaml, current_job()) {
        fixture.context().checkpoints = &store;
        fixture.context().params = std::move(params);
        fixture.context().on_progress = [this](const scheduler::task_progress& p) {
            std::lock_guard lock(mutex);
            reports.push_back(p);
        };
    }
    scheduler::task_outcome run(const etl::copy_task_options& options = {}) {
        connectors::connector_registry registry;
        connectors::register_builtin_connectors(registry);
        etl::copy_task runner(registry, options);
        return fixture.run(runner);
    }
    scheduler::task_progress last() {
        std::lock_guard lock(mutex);
        REQUIRE_FALSE(reports.empty());
        return reports.back();
    }

    test::attempt_fixture fixture;
    std::mutex mutex;
    std::vector<scheduler::task_progress> reports;
};

#define REQUIRE_SUCCESS(outcome)               \
    do {                                       \
        const auto& o_ = (outcome);            \
        INFO(o_.message);                      \
        REQUIRE(o_.result == status::success); \
    } while (false)

// Rows (id, updated_at, name) with equal timestamps in runs of three, so every batch boundary
// of batch_rows 2 falls inside a tie on updated_at.
void insert_rows(const database& db, const std::string& table, int from, int to,
                 const std::string& stamp_prefix = "2024-01-01 00:00:") {
    std::string values;
    for (int id = from; id <= to; ++id) {
        const int second = 10 + (id - 1) / 3;
        values += (values.empty() ? "" : ", ") +
                  ("(" + std::to_string(id) + ", '" + stamp_prefix + std::to_string(second) +
                   "', 'name " + std::to_string(id) + "')");
    }
    db.exec("INSERT INTO " + table + " (id, updated_at, name) VALUES " + values);
}

void create_source(const database& db, const std::string& table) {
    db.exec("CREATE TABLE " + table + " (id INTEGER NOT NULL PRIMARY KEY, updated_at " +
            db.timestamp_type + " NOT NULL, name VARCHAR(100))");
}

// Every id in the sink, in order, with duplicates kept.
std::vector<std::string> ids(const database& db, const std::string& table,
                             const std::string& final_kw = "") {
    std::vector<std::string> out;
    for (const auto& r : db.rows("SELECT id FROM " + table + final_kw + " ORDER BY id")) {
        out.push_back(r.at(0).value_or("NULL"));
    }
    return out;
}

std::vector<std::string> range(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i <= to; ++i) {
        out.push_back(std::to_string(i));
    }
    return out;
}

// Incremental append, then upsert of changed rows, between two engines.
void check_incremental(const database& src, const database& dst, const std::string& tag) {
    const std::string s = test::unique_table("copy_src_" + tag);
    const std::string d = test::unique_table("copy_dst_" + tag);
    create_source(src, s);
    insert_rows(src, s, 1, 10);
    memory_checkpoints store;
    const std::string yaml = copy_yaml(src, dst, "table: " + s + ", cursor: [updated_at, id]",
                                       "table: " + d + ", mode: upsert, key: [id]",
                                       "        batch_rows: 2\n        create_table: if_missing\n");
    {
        attempt a(yaml, store);
        REQUIRE_SUCCESS(a.run());
        CHECK(a.last().rows_written == 10);
        CHECK(a.last().batches == 5);
        CHECK(a.last().done);
        if (src.type != config::connection_type::sqlite) {
            // Drained: the mark is the source's newest cursor value (SQLite's TEXT stamps are
            // not a time type: no lag).
            CHECK(a.last().lag_seconds == Approx(0.0));
        }
    }
    CHECK(ids(dst, d) == range(1, 10));
    // The mark is in the sink (the truth) and mirrored to the store.
    const std::string key = current_job() + "/t/" + d;
    const auto in_sink =
        dst.rows("SELECT value FROM sluice_checkpoints WHERE " +
                 std::string(dst.type == config::connection_type::mysql ? "`key`" : "key") +
                 " = '" + key + "'");
    REQUIRE(in_sink.size() == 1);
    const auto mark = nlohmann::json::parse(in_sink.at(0).at(0).value());
    CHECK(mark["mark"] == nlohmann::json({"2024-01-01 00:00:13", "10"}));
    CHECK(mark["intent"].is_null());
    REQUIRE(store.get("mark").value());
    CHECK(nlohmann::json::parse(*store.get("mark").value())["mark"] == mark["mark"]);

    // New rows, some tying with the mark's timestamp, and a changed row with a newer stamp.
    insert_rows(src, s, 11, 14);
    src.exec("UPDATE " + s +
             " SET name = 'changed', updated_at = '2024-01-01 00:00:20' WHERE id = 2");
    {
        attempt a(yaml, store);
        REQUIRE_SUCCESS(a.run());
        CHECK(a.last().rows_read == 5);
    }
    CHECK(ids(dst, d) == range(1, 14));
    CHECK(dst.rows("SELECT name FROM " + d + " WHERE id = 2").at(0).at(0) == "changed");
    // Nothing new: nothing read.
    {
        attempt a(yaml, store);
        REQUIRE_SUCCESS(a.run());
        CHECK(a.last().rows_read == 0);
    }
}

}  // namespace

TEST_CASE("copy: PostgreSQL -> PostgreSQL incremental upsert with cursor ties",
          "[etl][copy][postgres]") {
    check_incremental(postgres_db(), postgres_db(), "pgpg");
}

TEST_CASE("copy: MySQL -> PostgreSQL incremental upsert", "[etl][copy][mysql]") {
    check_incremental(mysql_db(), postgres_db(), "mypg");
}

TEST_CASE("copy: SQLite -> SQLite incremental upsert", "[etl][copy][sqlite]") {
    test::temp_dir dir;
    check_incremental(sqlite_db(dir.path() / "src.db"), sqlite_db(dir.path() / "dst.db"), "lite");
}

TEST_CASE("copy: PostgreSQL -> MySQL incremental upsert", "[etl][copy][mysql]") {
    check_incremental(postgres_db(), mysql_db(), "pgmy");
}

TEST_CASE(
    "copy: incremental append loses and repeats nothing across ties, max_batches_per_run, "
    "full_refresh",
    "[etl][copy][postgres]") {
    const database pg = postgres_db();
    const std::string s = test::unique_table("copy_app_src");
    const std::string d = test::unique_table("copy_app_dst");
    create_source(pg, s);
    insert_rows(pg, s, 1, 9);
    memory_checkpoints store;
    const std::string yaml = copy_yaml(pg, pg, "table: " + s + ", cursor: [updated_at, id]",
                                       "table: " + d + ", mode: append",
                                       "        batch_rows: 2\n        max_batches_per_run: 2\n"
                                       "        create_table: if_missing\n");
    attempt first(yaml, store);
    REQUIRE_SUCCESS(first.run());
    CHECK(ids(pg, d) == range(1, 4));
    // Measured with the first batch (id 2, :10) against the newest row (id 9, :12).
    REQUIRE(first.last().lag_seconds);
    CHECK(*first.last().lag_seconds == Approx(2.0));
    CHECK(first.last().mark == std::string(R"(["2024-01-01 00:00:11","4"])"));
    attempt second(yaml, store);
    REQUIRE_SUCCESS(second.run());
    CHECK(ids(pg, d) == range(1, 8));
    attempt third(yaml, store);
    REQUIRE_SUCCESS(third.run());
    CHECK(ids(pg, d) == range(1, 9));
    // full_refresh forgets the mark: an append sink gets every row again.
    pg.exec("DELETE FROM " + d);
    attempt refresh(yaml, store, {{"full_refresh", "true"}});
    REQUIRE_SUCCESS(refresh.run());
    CHECK(ids(pg, d) == range(1, 4));
}

TEST_CASE("copy: late rows inside the lookback window are picked up by an upsert",
          "[etl][copy][postgres]") {
    const database pg = postgres_db();
    const std::string s = test::unique_table("copy_lb_src");
    const std::string d = test::unique_table("copy_lb_dst");
    create_source(pg, s);
    insert_rows(pg, s, 1, 6);
    memory_checkpoints store;
    const std::string yaml =
        copy_yaml(pg, pg, "table: " + s + ", cursor: [updated_at, id], lookback: 1m",
                  "table: " + d + ", mode: upsert, key: [id]",
                  "        batch_rows: 100\n        create_table: if_missing\n");
    attempt first(yaml, store);
    REQUIRE_SUCCESS(first.run());
    CHECK(ids(pg, d) == range(1, 6));
    // A row that committed late with a stamp before the mark (00:00:11), inside the minute.
    pg.exec("INSERT INTO " + s + " VALUES (100, '2024-01-01 00:00:05', 'late')");
    // One far outside the window is not seen (that is what the window means).
    pg.exec("INSERT INTO " + s + " VALUES (101, '2023-12-31 00:00:00', 'too late')");
    attempt second(yaml, store);
    REQUIRE_SUCCESS(second.run());
    auto expected = range(1, 6);
    expected.push_back("100");
    CHECK(ids(pg, d) == expected);
    // The mark never moves backwards because of a re-read.
    const auto mark = nlohmann::json::parse(*store.get("mark").value());
    CHECK(mark["mark"] == nlohmann::json({"2024-01-01 00:00:11", "6"}));
}

TEST_CASE("copy: a stop mid-copy keeps the committed batches, a rerun resumes without duplicates",
          "[etl][copy][postgres]") {
    const database pg = postgres_db();
    const std::string s = test::unique_table("copy_stop_src");
    const std::string d = test::unique_table("copy_stop_dst");
    create_source(pg, s);
    insert_rows(pg, s, 1, 12);
    memory_checkpoints store;
    const std::string yaml = copy_yaml(pg, pg, "table: " + s + ", cursor: [updated_at, id]",
                                       "table: " + d + ", mode: append",
                                       "        batch_rows: 2\n        sleep_between_batches: 1s\n"
                                       "        create_table: if_missing\n");
    {
        attempt a(yaml, store);
        std::thread stopper([&] {
            std::this_thread::sleep_for(1500ms);
            a.fixture.stop().request(scheduler::stop_signal::reason::canceled);
        });
        const auto outcome = a.run();
        stopper.join();
        CHECK(outcome.result == status::canceled);
        // The sleep is interrupted at once, not after the remaining batches.
        CHECK(a.fixture.elapsed() < 3s);
    }
    const auto partial = ids(pg, d);
    CHECK(partial.size() >= 2);
    CHECK(partial.size() < 12);
    attempt rerun(yaml, store);
    REQUIRE_SUCCESS(rerun.run());
    CHECK(ids(pg, d) == range(1, 12));
}

TEST_CASE("copy: PostgreSQL -> ClickHouse upsert through the batch ledger, replayed after a crash",
          "[etl][copy][clickhouse]") {
    const database pg = postgres_db();
    const database ch = clickhouse_db();
    const std::string s = test::unique_table("copy_ch_src");
    const std::string d = test::unique_table("copy_ch_dst");
    create_source(pg, s);
    insert_rows(pg, s, 1, 10);
    memory_checkpoints store;
    const std::string yaml = copy_yaml(pg, ch, "table: " + s + ", cursor: [updated_at, id]",
                                       "table: " + d + ", mode: upsert, key: [id]",
                                       "        batch_rows: 3\n        create_table: if_missing\n");
    etl::copy_task_options crash;
    crash.crash_after_insert = [](std::uint64_t batch) { return batch == 2; };
    {
        attempt a(yaml, store);
        const auto outcome = a.run(crash);
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::transient);
    }
    // Batch 2 landed but its mark did not: the ledger holds its intent.
    CHECK(ids(ch, d) == range(1, 6));
    const auto ledger =
        ch.rows("SELECT argMax(value, version) FROM sluice_checkpoints WHERE key = '" +
                current_job() + "/t/" + d + "' GROUP BY key");
    REQUIRE(ledger.size() == 1);
    const auto open = nlohmann::json::parse(ledger.at(0).at(0).value());
    CHECK(open["mark"] == nlohmann::json({"2024-01-01 00:00:10", "3"}));
    CHECK(open["intent"]["hi"] == nlohmann::json({"2024-01-01 00:00:11", "6"}));
    attempt rerun(yaml, store);
    REQUIRE_SUCCESS(rerun.run());
    // The attempt that failed said so in the store: the replay does not claim a crash, and its
    // three rows are read again, not new.
    const auto system = rerun.fixture.texts(scheduler::output_line::stream::system);
    CHECK_THAT(system,
               Catch::VectorContains(std::string(
                   "replayed the open batch up to [\"2024-01-01 00:00:11\",\"6\"] (3 row(s)) "
                   "left open by an earlier attempt (try 1), which failed: simulated crash "
                   "after the insert of batch 2 (test hook)")));
    CHECK(rerun.last().rows_reread == 3);
    CHECK(rerun.last().rows_read == 4);
    // The replayed batch leaves no visible duplicate.
    CHECK(ids(ch, d, " FINAL") == range(1, 10));
    const auto mark = nlohmann::json::parse(*store.get("mark").value());
    CHECK(mark["mark"] == nlohmann::json({"2024-01-01 00:00:13", "10"}));
    CHECK(mark["intent"].is_null());
}

TEST_CASE("copy: ClickHouse append replays an open intent only when its insert did not land",
          "[etl][copy][clickhouse]") {
    const database pg = postgres_db();
    const database ch = clickhouse_db();
    const std::string s = test::unique_table("copy_cha_src");
    const std::string d = test::unique_table("copy_cha_dst");
    create_source(pg, s);
    insert_rows(pg, s, 1, 9);
    ch.exec(
        "CREATE TABLE " + d +
        " (id Int32, updated_at DateTime, name Nullable(String)) ENGINE = MergeTree ORDER BY id");
    memory_checkpoints store;
    const std::string yaml = copy_yaml(pg, ch, "table: " + s + ", cursor: [updated_at, id]",
                                       "table: " + d + ", mode: append", "        batch_rows: 3\n");
    etl::copy_task_options crash;
    crash.crash_after_insert = [](std::uint64_t batch) { return batch == 1; };
    attempt a(yaml, store);
    CHECK(a.run(crash).result == status::failed);
    CHECK(ids(ch, d) == range(1, 3));
    // A process that dies never gets to note why its batch was open: without the note the
    // replay says it follows a crash.
    REQUIRE(store.get("open_batch").value().has_value());
    REQUIRE_OK(store.put("open_batch", "{}"));
    attempt rerun(yaml, store);
    REQUIRE_SUCCESS(rerun.run());
    CHECK_THAT(rerun.fixture.texts(scheduler::output_line::stream::system),
               Catch::VectorContains(std::string(
                   "the open batch up to [\"2024-01-01 00:00:10\",\"3\"] had landed; its mark is "
                   "committed (after a crash)")));
    // Without FINAL and without a ReplacingMergeTree: exactly once.
    CHECK(ids(ch, d) == range(1, 9));
}

TEST_CASE("copy: a source query with task values and column expressions, full copy each run",
          "[etl][copy][postgres]") {
    const database pg = postgres_db();
    const test::temp_dir dir;
    const database lite = sqlite_db(dir.path() / "dst.db");
    const std::string s = test::unique_table("copy_q_src");
    create_source(pg, s);
    insert_rows(pg, s, 1, 5);
    memory_checkpoints store;
    const std::string yaml =
        copy_yaml(pg, lite,
                  "query: \"SELECT id, name, :job AS job FROM " + s +
                      " WHERE id > 1\", columns: {id: id, "
                      "label: \"upper(name) || '/' || job\"}",
                  "table: out, mode: upsert, key: [id]", "        create_table: if_missing\n");
    attempt a(yaml, store);
    REQUIRE_SUCCESS(a.run());
    const auto rows = lite.rows("SELECT id, label FROM out ORDER BY id");
    REQUIRE(rows.size() == 4);
    CHECK(rows.at(0).at(1) == "NAME 2/" + current_job());
    attempt again(yaml, store);
    REQUIRE_SUCCESS(again.run());
    CHECK(lite.rows("SELECT count(*) FROM out").at(0).at(0) == "4");
}

TEST_CASE("copy: errors are classified with the server's message", "[etl][copy][postgres]") {
    const database pg = postgres_db();
    memory_checkpoints store;
    SECTION("a missing source table is permanent") {
        attempt a(copy_yaml(pg, pg, "table: no_such_table_xyz, cursor: [id]",
                            "table: t_out, mode: append", "        create_table: if_missing\n"),
                  store);
        const auto outcome = a.run();
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK_THAT(outcome.message, Catch::Contains("no_such_table_xyz"));
    }
    SECTION("a missing sink table without create_table is permanent") {
        const std::string s = test::unique_table("copy_err_src");
        create_source(pg, s);
        attempt a(copy_yaml(pg, pg, "table: " + s, "table: missing_sink_xyz, mode: append", ""),
                  store);
        const auto outcome = a.run();
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK_THAT(outcome.message, Catch::Contains("create_table: if_missing"));
    }
    SECTION("a cursor column the source does not have is permanent") {
        const std::string s = test::unique_table("copy_err2_src");
        create_source(pg, s);
        attempt a(copy_yaml(pg, pg, "table: " + s + ", cursor: [nope]",
                            "table: x_out, mode: append", "        create_table: if_missing\n"),
                  store);
        const auto outcome = a.run();
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK_THAT(outcome.message, Catch::Contains("nope"));
    }
    SECTION("a sink without the mode is permanent, naming it") {
        attempt a(copy_yaml(pg, clickhouse_db(), "table: t_in",
                            "table: t_hist, mode: scd2, key: [id], sequence: updated_at", ""),
                  store);
        const auto outcome = a.run();
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK_THAT(outcome.message, Catch::Contains("does not support mode: scd2"));
    }
    SECTION("an unreachable source is transient") {
        database refused;
        refused.connection =
            "{type: postgres, url: \"postgresql://sluice@127.0.0.1:1/x\", connect_timeout: 2s}";
        attempt a(copy_yaml(refused, pg, "table: a", "table: b, mode: append", ""), store);
        const auto outcome = a.run();
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::transient);
    }
}

// The sink's mark is the truth; the store's copy is written after each batch's commit. When that
// commit landed but the attempt never heard of it (the sink server went away while answering the
// COMMIT, or kill -9 between the commit and the mirror), a later attempt that finds nothing new
// to copy must still bring the store's mark up to the sink's.
TEST_CASE("copy: an attempt brings a stale store mirror of the mark up to the sink's",
          "[etl][copy][sqlite]") {
    const test::temp_dir dir;
    const database src = sqlite_db(dir.path() / "src.db");
    const database dst = sqlite_db(dir.path() / "dst.db");
    create_source(src, "s");
    insert_rows(src, "s", 1, 6);
    const std::string yaml =
        copy_yaml(src, dst, "table: s, cursor: [updated_at, id]", "table: d, mode: append",
                  "        batch_rows: 4\n        create_table: if_missing\n");
    memory_checkpoints store;
    {
        attempt a(yaml, store);
        REQUIRE_SUCCESS(a.run());
    }
    const auto in_sink = nlohmann::json::parse(
        dst.rows("SELECT value FROM sluice_checkpoints").at(0).at(0).value())["mark"];
    CHECK(in_sink == nlohmann::json({"2024-01-01 00:00:11", "6"}));
    // The mirror lost the last batch's mark (it holds the first batch's).
    REQUIRE_OK(
        store.put("mark", R"({"cursor":["updated_at","id"],"mark":["2024-01-01 00:00:11","4"]})"));
    {
        attempt a(yaml, store);
        REQUIRE_SUCCESS(a.run());
        CHECK(a.last().rows_read == 0);
    }
    CHECK(ids(dst, "d") == range(1, 6));
    REQUIRE(store.get("mark").value());
    CHECK(nlohmann::json::parse(*store.get("mark").value())["mark"] == in_sink);
}
