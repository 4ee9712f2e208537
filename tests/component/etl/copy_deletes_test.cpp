// `deletes: detect` of the copy task (docs/etl.md, "Deleted rows") between the real engines
// started by scripts/test-servers.sh: sink rows whose key left the source are deleted on
// PostgreSQL, MariaDB and SQLite, and superseded by a deletion version (_deleted = 1) on
// ClickHouse 18.16, across many key pages; a pass cut short on ClickHouse between a page's
// deletion versions and its position (copy_task_options::crash_after_delete: a crash cannot be
// caused for real at that instant) resumes without a second version of a deleted key; a key that
// comes back at the source comes back in the sink.
#include <map>
#include <mutex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/sql_session.hpp"
#include "etl/copy_task.hpp"
#include "tests/component/connectors/connector_fixture.hpp"
#include "tests/component/etl/attempt_fixture.hpp"
#include "tests/component/etl/sql_probe.hpp"

using namespace sluice;
using sluice::test::engine;
using status = scheduler::task_outcome::status;

namespace {

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

void exec(const test::connector_fixture& f, engine e, const std::string& sql) {
    if (e == engine::clickhouse) {
        test::clickhouse_run(f.spec(e).url, sql);
        return;
    }
    auto session = connectors::open_sql_session(f.spec(e));
    REQUIRE_OK(session);
    auto done = (*session)->execute(sql, {});
    INFO(sql);
    REQUIRE_OK(done);
}

// The first column of every row of `sql`, as text.
std::vector<std::string> column(const test::connector_fixture& f, engine e,
                                const std::string& sql) {
    auto source = f.source(e);
    connectors::read_request r;
    r.query = sql;
    auto reader = source->read(r);
    INFO(sql);
    REQUIRE_OK(reader);
    std::vector<std::string> out;
    connectors::row_batch batch;
    for (;;) {
        auto more = (*reader)->next(batch);
        REQUIRE_OK(more);
        if (!*more) {
            break;
        }
        for (std::size_t row = 0; row < batch.row_count(); ++row) {
            out.emplace_back(batch.is_null(row, 0) ? "NULL" : std::string(batch.at(row, 0)));
        }
    }
    return out;
}

// The ids of the live rows of a sink table, in order.
std::vector<std::string> live_ids(const test::connector_fixture& f, engine e,
                                  const std::string& table) {
    return column(f, e,
                  e == engine::clickhouse
                      ? "SELECT id FROM " + table + " FINAL WHERE _deleted = 0 ORDER BY id"
                      : "SELECT id FROM " + table + " ORDER BY id");
}

std::string connection(const test::connector_fixture& f, engine e) {
    return "{type: " + test::engine_name(e) + ", url: \"" + f.spec(e).url + "\"}";
}

std::string timestamp_type(engine e) {
    return e == engine::mysql ? "datetime" : (e == engine::sqlite ? "TEXT" : "timestamp");
}

// Source rows 1..n: (id, updated_at, name), one second apart.
void fill_source(const test::connector_fixture& f, engine e, const std::string& table, int from,
                 int to) {
    std::string values;
    for (int id = from; id <= to; ++id) {
        values += (values.empty() ? "" : ", ") +
                  ("(" + std::to_string(id) + ", '2024-01-01 00:" + (id / 60 < 10 ? "0" : "") +
                   std::to_string(id / 60) + ":" + (id % 60 < 10 ? "0" : "") +
                   std::to_string(id % 60) + "', 'name " + std::to_string(id) + "')");
    }
    exec(f, e, "INSERT INTO " + table + " (id, updated_at, name) VALUES " + values);
}

struct copy_run {
    scheduler::task_outcome outcome;
    scheduler::task_progress last;
    std::vector<std::string> system;
};

copy_run run_copy(const std::string& yaml, const std::string& job, memory_checkpoints& store,
                  const etl::copy_task_options& options = {}) {
    test::attempt_fixture fixture(yaml, job);
    fixture.context().checkpoints = &store;
    std::mutex mutex;
    std::vector<scheduler::task_progress> reports;
    fixture.context().on_progress = [&](const scheduler::task_progress& p) {
        std::lock_guard lock(mutex);
        reports.push_back(p);
    };
    connectors::connector_registry registry;
    connectors::register_builtin_connectors(registry);
    etl::copy_task runner(registry, options);
    copy_run out{fixture.run(runner), {}, fixture.texts(scheduler::output_line::stream::system)};
    REQUIRE_FALSE(reports.empty());
    out.last = reports.back();
    return out;
}

std::vector<std::string> ids_except(int from, int to, const std::vector<int>& gone) {
    std::vector<std::string> out;
    for (int i = from; i <= to; ++i) {
        if (std::find(gone.begin(), gone.end(), i) == gone.end()) {
            out.push_back(std::to_string(i));
        }
    }
    return out;
}

std::string id_list(const std::vector<int>& ids) {
    std::string out;
    for (int id : ids) {
        out += (out.empty() ? "" : ", ") + std::to_string(id);
    }
    return out;
}

#define REQUIRE_SUCCESS(run)                           \
    do {                                               \
        const auto& r_ = (run);                        \
        INFO(r_.outcome.message);                      \
        REQUIRE(r_.outcome.result == status::success); \
    } while (false)

// Copies 40 rows in pages of 4 keys, deletes keys at the source (the first, the last, runs
// across page boundaries) and a key the sink alone holds, and checks every one goes.
void check_deletes(engine from, engine to, bool incremental) {
    test::connector_fixture f;
    const std::string s = f.table(from, "del_src");
    const std::string d = f.table(to, "del_dst");
    exec(f, from,
         "CREATE TABLE " + s + " (id INTEGER NOT NULL PRIMARY KEY, updated_at " +
             timestamp_type(from) + " NOT NULL, name VARCHAR(100))");
    fill_source(f, from, s, 1, 40);
    const std::string job = test::unique_table("deljob");
    const std::string yaml =
        "connections:\n  src: " + connection(f, from) + "\n  dst: " + connection(f, to) +
        "\njobs:\n  " + job +
        ":\n    tasks:\n      t:\n        type: copy\n        source: {connection: src, table: " +
        s + (incremental ? ", cursor: [updated_at, id]" : "") +
        "}\n        sink: {connection: dst, table: " + d +
        ", mode: upsert, key: [id]}\n        batch_rows: 4\n        create_table: if_missing\n"
        "        deletes: detect\n";
    memory_checkpoints store;
    {
        const auto first = run_copy(yaml, job, store);
        REQUIRE_SUCCESS(first);
        CHECK(first.last.rows_written == 40);
        CHECK(first.last.rows_deleted == 0);
    }
    CHECK(live_ids(f, to, d) == ids_except(1, 40, {}));

    const std::vector<int> gone{1, 2, 7, 8, 9, 10, 11, 12, 13, 24, 40};
    exec(f, from, "DELETE FROM " + s + " WHERE id IN (" + id_list(gone) + ")");
    // A row only the sink has (loaded by someone else, or deleted before Sluice ran) goes too.
    exec(f, to,
         "INSERT INTO " + d + " (id, updated_at, name) VALUES (100, '2024-01-01 00:00:00', 'x')");
    const auto second = run_copy(yaml, job, store);
    REQUIRE_SUCCESS(second);
    CHECK(second.last.rows_deleted == gone.size() + 1);
    CHECK(live_ids(f, to, d) == ids_except(1, 40, gone));
    CHECK_THAT(second.system,
               Catch::VectorContains(std::to_string(gone.size() + 1) + " row(s) deleted from " + d +
                                     ": their key is gone from the source (11 page(s) of "
                                     "keys compared)"));
    // The pass is complete: no restart point is left in the checkpoint.
    const auto mark = nlohmann::json::parse(store.get("mark").value().value_or("{}"));
    CHECK_FALSE(mark.contains("deletes_after"));

    const auto third = run_copy(yaml, job, store);
    REQUIRE_SUCCESS(third);
    CHECK(third.last.rows_deleted == 0);
    CHECK(live_ids(f, to, d) == ids_except(1, 40, gone));
}

}  // namespace

TEST_CASE("deletes: detect deletes the rows whose key left the source, PostgreSQL -> PostgreSQL",
          "[etl][copy][deletes][postgres]") {
    check_deletes(engine::postgres, engine::postgres, true);
}

TEST_CASE("deletes: detect on a full upsert copy (no cursor), PostgreSQL -> MariaDB",
          "[etl][copy][deletes][mysql]") {
    check_deletes(engine::postgres, engine::mysql, false);
}

TEST_CASE("deletes: detect, MariaDB -> MariaDB incremental", "[etl][copy][deletes][mysql]") {
    check_deletes(engine::mysql, engine::mysql, true);
}

TEST_CASE("deletes: detect, SQLite -> SQLite incremental", "[etl][copy][deletes][sqlite]") {
    check_deletes(engine::sqlite, engine::sqlite, true);
}

TEST_CASE("deletes: detect, PostgreSQL -> ClickHouse deletion versions",
          "[etl][copy][deletes][clickhouse]") {
    check_deletes(engine::postgres, engine::clickhouse, true);
}

TEST_CASE(
    "deletes: detect on ClickHouse resumes a pass cut between a page's deletion versions "
    "and its position, without a second version",
    "[etl][copy][deletes][clickhouse]") {
    test::connector_fixture f;
    const std::string s = f.table(engine::postgres, "del_src");
    const std::string d = f.table(engine::clickhouse, "del_dst");
    exec(f, engine::postgres,
         "CREATE TABLE " + s +
             " (id INTEGER NOT NULL PRIMARY KEY, updated_at timestamp NOT NULL, name text)");
    fill_source(f, engine::postgres, s, 1, 30);
    const std::string job = test::unique_table("deljob");
    const std::string yaml =
        "connections:\n  src: " + connection(f, engine::postgres) +
        "\n  dst: " + connection(f, engine::clickhouse) + "\njobs:\n  " + job +
        ":\n    tasks:\n      t:\n        type: copy\n        source: {connection: src, table: " +
        s + ", cursor: [updated_at, id]}\n        sink: {connection: dst, table: " + d +
        ", mode: upsert, key: [id]}\n        batch_rows: 5\n        create_table: if_missing\n"
        "        deletes: detect\n";
    memory_checkpoints store;
    REQUIRE_SUCCESS(run_copy(yaml, job, store));
    // Key pages of 5: [1..5] [6..10] [11..15] [16..20] [21..25] [26..30]; deletions on four.
    const std::vector<int> gone{2, 7, 8, 14, 27, 30};
    exec(f, engine::postgres, "DELETE FROM " + s + " WHERE id IN (" + id_list(gone) + ")");
    etl::copy_task_options crash;
    crash.crash_after_delete = [](std::uint64_t page) { return page == 2; };
    {
        const auto cut = run_copy(yaml, job, store, crash);
        CHECK(cut.outcome.result == status::failed);
        CHECK(cut.outcome.error_class == core::error_class::transient);
        CHECK(cut.last.rows_deleted == 3);  // pages 1 and 2 landed
    }
    CHECK(live_ids(f, engine::clickhouse, d) == ids_except(1, 30, {2, 7, 8}));
    // Page 2's position was never written: the restart point is the end of page 1.
    const auto ledger =
        column(f, engine::clickhouse,
               "SELECT argMax(value, version) FROM sluice_checkpoints WHERE key = '" + job + "/t/" +
                   d + "' GROUP BY key");
    REQUIRE(ledger.size() == 1);
    CHECK(nlohmann::json::parse(ledger.at(0))["deletes_after"] == nlohmann::json({"5"}));

    const auto resumed = run_copy(yaml, job, store);
    REQUIRE_SUCCESS(resumed);
    CHECK_THAT(resumed.system,
               Catch::VectorContains(
                   std::string("detecting deleted rows: comparing the keys of the source and of " +
                               d + " in pages of 5, resuming after [\"5\"]")));
    // 7 and 8 were deleted already, so they are not among the live keys read again: no second
    // version of them.
    CHECK(resumed.last.rows_deleted == 3);
    CHECK(live_ids(f, engine::clickhouse, d) == ids_except(1, 30, gone));
    CHECK(column(f, engine::clickhouse,
                 "SELECT toString(count()) FROM " + d + " FINAL WHERE _deleted = 1") ==
          std::vector<std::string>{std::to_string(gone.size())});

    // A key back at the source (a newer version) is back in the sink.
    exec(f, engine::postgres,
         "INSERT INTO " + s + " (id, updated_at, name) VALUES (7, '2024-02-01 00:00:00', 'back')");
    const auto revived = run_copy(yaml, job, store);
    REQUIRE_SUCCESS(revived);
    CHECK(revived.last.rows_deleted == 0);
    CHECK(live_ids(f, engine::clickhouse, d) == ids_except(1, 30, {2, 8, 14, 27, 30}));
    CHECK(column(f, engine::clickhouse,
                 "SELECT name FROM " + d + " FINAL WHERE id = 7 AND _deleted = 0") ==
          std::vector<std::string>{"back"});
}

TEST_CASE("deletes: detect refuses a text key before copying anything",
          "[etl][copy][deletes][sqlite]") {
    test::connector_fixture f;
    const std::string s = f.table(engine::sqlite, "del_src");
    const std::string d = f.table(engine::sqlite, "del_dst");
    exec(f, engine::sqlite, "CREATE TABLE " + s + " (code TEXT NOT NULL PRIMARY KEY, n INTEGER)");
    exec(f, engine::sqlite, "INSERT INTO " + s + " VALUES ('a', 1), ('B', 2)");
    const std::string job = test::unique_table("deljob");
    const std::string yaml =
        "connections:\n  src: " + connection(f, engine::sqlite) +
        "\n  dst: " + connection(f, engine::sqlite) + "\njobs:\n  " + job +
        ":\n    tasks:\n      t:\n        type: copy\n        source: {connection: src, table: " +
        s + "}\n        sink: {connection: dst, table: " + d +
        ", mode: upsert, key: [code]}\n        create_table: if_missing\n        deletes: detect\n";
    memory_checkpoints store;
    const auto refused = run_copy(yaml, job, store);
    CHECK(refused.outcome.result == status::failed);
    CHECK(refused.outcome.error_class == core::error_class::permanent);
    CHECK_THAT(refused.outcome.message,
               Catch::Contains("key column 'code' is text, whose order depends on each "
                               "engine's collation"));
    CHECK(refused.last.rows_written == 0);
}
