// Sink transactions and checkpoints, upserts, incremental reads with tuple cursors, bounded
// batches and error classification, on the real servers.

#include <catch2/catch.hpp>

#include "connectors/sql_session.hpp"
#include "tests/component/connectors/connector_fixture.hpp"

namespace sluice::test {

namespace {

using connectors::column_type;

connectors::schema small_schema() {
    connectors::column id;
    id.name = "id";
    id.type = column_type::int64;
    id.nullable = false;
    connectors::column ts;
    ts.name = "ts";
    ts.type = column_type::timestamp;
    ts.nullable = false;
    connectors::column v;
    v.name = "v";
    v.type = column_type::text;
    return {{id, ts, v}};
}

connectors::row_batch batch_of(const std::vector<cells>& rows) {
    connectors::row_batch b(rows.empty() ? 0 : rows[0].size());
    for (const auto& row : rows) {
        for (const auto& v : row) {
            b.add_optional(v);
        }
    }
    return b;
}

// Rows (ts, id) with ties on ts, in cursor order.
std::vector<cells> cursor_rows() {
    return {{"1", "2026-01-01 10:00:00", "a"},
            {"2", "2026-01-01 10:00:00", "b"},
            {"3", "2026-01-01 11:00:00", "c"},
            {"4", "2026-01-01 11:00:00", "d"},
            {"5", "2026-01-01 12:00:00", "e"}};
}

std::vector<std::string> read_ids(connector_fixture& fx, engine e, const std::string& table,
                                  const std::optional<connectors::cursor_bound>& after) {
    auto src = fx.source(e);
    connectors::read_request r;
    r.table = table;
    r.after = after;
    r.order_by = {"ts", "id"};
    r.expected = small_schema();
    auto reader = src->read(r);
    if (!reader) {
        FAIL(engine_name(e) << ": " << reader.error().message);
    }
    std::vector<std::string> out;
    connectors::row_batch b;
    for (;;) {
        auto more = (*reader)->next(b);
        REQUIRE_OK(more);
        if (!*more) {
            return out;
        }
        for (std::size_t i = 0; i < b.row_count(); ++i) {
            out.emplace_back(b.at(i, 0));
        }
    }
}

}  // namespace

TEST_CASE("a rolled back batch leaves neither its rows nor its checkpoint", "[connectors][sink]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::sqlite}) {
        INFO(engine_name(e));
        const auto columns = small_schema();
        const std::string table = fx.table(e, "tx");
        fx.load(e, table, columns, {});
        auto out = fx.sink(e);
        CHECK(out->transactional());
        connectors::write_request w;
        w.table = table;
        w.columns = &columns;
        const std::string key = "job/task/" + table;

        REQUIRE_OK(out->begin());
        REQUIRE_OK(out->write(w, batch_of(cursor_rows())));
        REQUIRE_OK(out->write_checkpoint({key, R"({"mark":["2026-01-01 12:00:00","5"]})"}));
        REQUIRE_OK(out->rollback());
        CHECK(fx.read_all(e, table, columns).empty());
        auto mark = out->read_checkpoint(key);
        REQUIRE_OK(mark);
        CHECK(!mark->has_value());

        REQUIRE_OK(out->begin());
        REQUIRE_OK(out->write(w, batch_of(cursor_rows())));
        REQUIRE_OK(out->write_checkpoint({key, R"({"mark":5})"}));
        REQUIRE_OK(out->commit());
        CHECK(fx.read_all(e, table, columns).size() == 5);
        mark = out->read_checkpoint(key);
        REQUIRE_OK(mark);
        CHECK(mark->value_or("") == R"({"mark":5})");

        // The next batch moves the mark with its rows.
        REQUIRE_OK(out->begin());
        REQUIRE_OK(out->write_checkpoint({key, R"({"mark":6})"}));
        REQUIRE_OK(out->commit());
        mark = out->read_checkpoint(key);
        REQUIRE_OK(mark);
        CHECK(mark->value_or("") == R"({"mark":6})");
    }
}

TEST_CASE("checkpoints on sinks without transactions keep the last value written",
          "[connectors][sink]") {
    connector_fixture fx;
    for (engine e : {engine::clickhouse, engine::csv}) {
        INFO(engine_name(e));
        auto out = fx.sink(e);
        CHECK(!out->transactional());
        const std::string key = "job/task/" + fx.table(e, "mark");
        auto none = out->read_checkpoint(key);
        REQUIRE_OK(none);
        CHECK(!none->has_value());
        REQUIRE_OK(out->write_checkpoint({key, "first"}));
        REQUIRE_OK(out->write_checkpoint({key, "second\twith\ttabs 'and' \\ quotes"}));
        auto mark = out->read_checkpoint(key);
        REQUIRE_OK(mark);
        CHECK(mark->value_or("") == "second\twith\ttabs 'and' \\ quotes");
    }
}

TEST_CASE("an upsert replaces the rows with the same key and adds the others",
          "[connectors][sink]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::sqlite, engine::clickhouse}) {
        INFO(engine_name(e));
        const auto columns = small_schema();
        const std::string table = fx.table(e, "upsert");
        fx.load(e, table, columns, {cursor_rows()[0], cursor_rows()[1], cursor_rows()[2]});
        auto out = fx.sink(e);
        connectors::write_request w;
        w.table = table;
        w.columns = &columns;
        w.mode = connectors::write_mode::upsert;
        w.key = {"id"};
        w.dedup_token = "job/task/2..4";
        const std::vector<cells> changed = {{"2", "2026-01-02 00:00:00", "B"},
                                            {"3", "2026-01-02 00:00:00", std::nullopt},
                                            {"4", "2026-01-02 00:00:00", "D"}};
        REQUIRE_OK(out->begin());
        REQUIRE_OK(out->write(w, batch_of(changed)));
        REQUIRE_OK(out->commit());
        // A replay of the same batch changes nothing.
        REQUIRE_OK(out->write(w, batch_of(changed)));
        const std::vector<cells> expected = {cursor_rows()[0], changed[0], changed[1], changed[2]};
        require_equal_rows(columns, expected, fx.read_all(e, table, columns),
                           engine_name(e) + " upsert");
    }
}

TEST_CASE("incremental reads resume after a tuple cursor without losing ties",
          "[connectors][source]") {
    connector_fixture fx;
    for (engine e : all_engines()) {
        INFO(engine_name(e));
        const auto columns = small_schema();
        const std::string table = fx.table(e, "cursor");
        fx.load(e, table, columns, cursor_rows());

        using ids = std::vector<std::string>;
        CHECK(read_ids(fx, e, table, std::nullopt) == ids{"1", "2", "3", "4", "5"});
        connectors::cursor_bound after;
        after.columns = {"ts", "id"};
        after.values = {"2026-01-01 10:00:00", "2"};
        CHECK(read_ids(fx, e, table, after) == ids{"3", "4", "5"});
        after.values = {"2026-01-01 11:00:00", "3"};
        CHECK(read_ids(fx, e, table, after) == ids{"4", "5"});
        // A lookback re-reads from the first column alone, inclusively.
        connectors::cursor_bound lookback;
        lookback.columns = {"ts", "id"};
        lookback.values = {"2026-01-01 11:00:00"};
        lookback.inclusive = true;
        CHECK(read_ids(fx, e, table, lookback) == ids{"3", "4", "5"});

        auto src = fx.source(e);
        connectors::read_request r;
        r.table = table;
        r.expected = columns;
        auto top = src->max_cursor(r, {"ts", "id"});
        REQUIRE_OK(top);
        REQUIRE(top->has_value());
        REQUIRE((*top)->size() == 2);
        CHECK((**top)[0].value_or("") == "2026-01-01 12:00:00");
        CHECK((**top)[1].value_or("") == "5");
    }
}

TEST_CASE("reads stream in batches bounded by rows and by bytes", "[connectors][source]") {
    connector_fixture fx;
    const int rows = 100000;
    for (engine e : {engine::postgres, engine::mysql, engine::clickhouse}) {
        INFO(engine_name(e));
        auto src = fx.source(e);
        connectors::read_request r;
        r.query = e == engine::postgres ? "SELECT g AS id, repeat('x', 100) AS pad FROM "
                                          "generate_series(1, 100000) g"
                  : e == engine::mysql  ? "SELECT seq AS id, REPEAT('x', 100) AS pad FROM "
                                          "seq_1_to_100000"
                                        : "SELECT number + 1 AS id, '" + std::string(100, 'x') +
                                             "' AS pad FROM system.numbers LIMIT 100000";
        r.limits.max_rows = 7000;
        r.limits.max_bytes = 1 << 30;
        auto reader = src->read(r);
        REQUIRE_OK(reader);
        connectors::row_batch b;
        long total = 0;
        int batches = 0;
        for (auto more = (*reader)->next(b); more && *more; more = (*reader)->next(b)) {
            REQUIRE(b.row_count() <= 7000);
            total += static_cast<long>(b.row_count());
            ++batches;
        }
        CHECK(total == rows);
        CHECK(batches == (rows + 6999) / 7000);

        r.limits.max_rows = 1000000;
        r.limits.max_bytes = 256 * 1024;
        reader = src->read(r);
        REQUIRE_OK(reader);
        total = 0;
        for (auto more = (*reader)->next(b); more && *more; more = (*reader)->next(b)) {
            // The bound is checked after each row: one row of ~120 bytes may overshoot it.
            REQUIRE(b.byte_size() < 256 * 1024 + 1024);
            total += static_cast<long>(b.row_count());
        }
        CHECK(total == rows);

        // A reader dropped halfway leaves the connection usable.
        reader = src->read(r);
        REQUIRE_OK(reader);
        REQUIRE_OK((*reader)->next(b));
        reader = core::error::permanent("dropped");
        connectors::read_request small;
        small.query = "SELECT 1 AS one";
        auto again = src->read(small);
        REQUIRE_OK(again);
        REQUIRE_OK((*again)->next(b));
        CHECK(b.at(0, 0) == "1");
    }
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("clickhouse: with a version column the highest version wins, whatever the insert order",
          "[connectors][sink][clickhouse]") {
    connector_fixture fx;
    connectors::column id;
    id.name = "id";
    id.type = connectors::column_type::int64;
    id.nullable = false;
    connectors::column version;
    version.name = "version";
    version.type = connectors::column_type::int64;
    connectors::column v;
    v.name = "v";
    v.type = connectors::column_type::text;
    const connectors::schema columns{{id, version, v}};
    const std::string table = fx.table(engine::clickhouse, "versions");
    auto out = fx.sink(engine::clickhouse);
    connectors::create_options options;
    options.key = {"id"};
    options.version_column = "version";
    REQUIRE_OK(out->create_table(table, columns, options));
    auto described = out->describe_table(table);
    REQUIRE_OK(described);
    REQUIRE(described->has_value());
    CHECK(!(*described)->columns[1].nullable);  // 18.16: no Nullable in the sorting key

    connectors::write_request w;
    w.table = table;
    w.columns = &columns;
    w.mode = connectors::write_mode::upsert;
    w.key = {"id"};
    auto write = [&](const std::vector<cells>& rows) {
        connectors::row_batch b(3);
        for (const auto& row : rows) {
            for (const auto& cell : row) {
                b.add_optional(cell);
            }
        }
        REQUIRE_OK(out->write(w, b));
    };
    write({{"1", "2", "new"}, {"2", "1", "only"}});
    write({{"1", "1", "old, replayed late"}});
    const std::vector<cells> expected = {{"1", "2", "new"}, {"2", "1", "only"}};
    require_equal_rows(columns, expected, fx.read_all(engine::clickhouse, table, columns),
                       "ReplacingMergeTree(version) FINAL");
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("clickhouse: DateTime columns in another time zone still hold and yield UTC instants",
          "[connectors][clickhouse]") {
    connector_fixture fx;
    const std::string url = fx.spec(engine::clickhouse).url;
    const std::string table = fx.table(engine::clickhouse, "berlin");
    clickhouse_run(url, "CREATE TABLE `" + table +
                            "` (id Int64, ts DateTime('Europe/Berlin'), maybe "
                            "Nullable(DateTime)) ENGINE = MergeTree ORDER BY id");
    const auto columns = small_schema();  // id, ts, v: v is written into `maybe`
    connectors::schema written = columns;
    written.columns[2].name = "maybe";
    written.columns[2].type = column_type::timestamp_tz;
    auto out = fx.sink(engine::clickhouse);
    connectors::write_request w;
    w.table = table;
    w.columns = &written;
    REQUIRE_OK(out->write(w, batch_of({{"1", "2026-01-01 12:00:00", "2026-07-01 12:00:00"},
                                       {"2", "2026-07-01 12:00:00.9", std::nullopt}})));
    // Stored as the instants written, whatever the column's zone.
    CHECK(clickhouse_run(url, "SELECT toUnixTimestamp(ts), toUnixTimestamp(maybe) FROM `" + table +
                                  "` ORDER BY id FORMAT TabSeparated") ==
          "1767268800\t1782907200\n1782907200\t\\N\n");

    auto src = fx.source(engine::clickhouse);
    connectors::read_request r;
    r.table = table;
    r.order_by = {"ts", "id"};
    r.after = connectors::cursor_bound{{"ts", "id"}, {"2026-01-01 12:00:00", "1"}, false};
    auto reader = src->read(r);
    REQUIRE_OK(reader);
    connectors::row_batch b;
    REQUIRE_OK((*reader)->next(b));
    REQUIRE(b.row_count() == 1);
    CHECK(b.at(0, 0) == "2");
    CHECK(b.at(0, 1) == "2026-07-01 12:00:00");
    CHECK(b.is_null(0, 2));

    r.after.reset();
    reader = src->read(r);
    REQUIRE_OK(reader);
    REQUIRE_OK((*reader)->next(b));
    REQUIRE(b.row_count() == 2);
    CHECK(b.at(0, 1) == "2026-01-01 12:00:00");
    CHECK(b.at(0, 2) == "2026-07-01 12:00:00");
}

}  // namespace sluice::test
