// Sink write modes on the real servers: sequenced upsert with delete events (tombstones), scd2
// history with out-of-order events, and replace through a staging table.

#include <algorithm>
#include <map>
#include <random>

#include <catch2/catch.hpp>

#include "connectors/sql_session.hpp"
#include "connectors/text_codec.hpp"
#include "connectors/write_modes.hpp"
#include "tests/component/connectors/connector_fixture.hpp"

namespace sluice::test {

namespace {

using connectors::column_type;

connectors::column col(std::string name, column_type t, bool nullable = true) {
    connectors::column c;
    c.name = std::move(name);
    c.type = t;
    c.nullable = nullable;
    return c;
}

connectors::row_batch batch_of(const std::vector<cells>& rows, std::size_t columns) {
    connectors::row_batch b(columns);
    for (const auto& row : rows) {
        for (const auto& v : row) {
            b.add_optional(v);
        }
    }
    return b;
}

// Writes `events` in batches of `per_batch` rows, each batch in its own transaction.
void write_events(connectors::sink& out, const connectors::write_request& w,
                  const std::vector<cells>& events, std::size_t per_batch) {
    for (std::size_t i = 0; i < events.size(); i += per_batch) {
        const std::vector<cells> part(
            events.begin() + static_cast<std::ptrdiff_t>(i),
            events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + per_batch)));
        REQUIRE_OK(out.begin());
        REQUIRE_OK(out.write(w, batch_of(part, w.columns->columns.size())));
        REQUIRE_OK(out.commit());
    }
}

std::vector<cells> shuffled(std::vector<cells> rows, unsigned seed) {
    std::mt19937 rng(seed);
    std::shuffle(rows.begin(), rows.end(), rng);
    return rows;
}

// Rows of `table` ordered by `order_by` (typed by `expected`).
std::vector<cells> read_ordered(connector_fixture& fx, engine e, const std::string& table,
                                const connectors::schema& expected,
                                const std::vector<std::string>& order_by) {
    auto in = fx.source(e);
    connectors::read_request r;
    r.table = table;
    r.order_by = order_by;
    r.expected = expected;
    auto reader = in->read(r);
    if (!reader) {
        FAIL(engine_name(e) << ": " << reader.error().message);
    }
    std::vector<cells> out;
    connectors::row_batch b;
    for (;;) {
        auto more = (*reader)->next(b);
        REQUIRE_OK(more);
        if (!*more) {
            return out;
        }
        for (std::size_t i = 0; i < b.row_count(); ++i) {
            cells row;
            for (std::size_t c = 0; c < b.column_count(); ++c) {
                row.push_back(b.value(i, c));
            }
            out.push_back(std::move(row));
        }
    }
}

// scd2 keeps its events next to the history table; the fixture drops only the tables it named.
void drop_events_table(connector_fixture& fx, engine e, const std::string& history) {
    if (e != engine::postgres && e != engine::mysql) {
        return;  // SQLite: the file is removed with the fixture's directory
    }
    auto session = connectors::open_sql_session(fx.spec(e));
    REQUIRE_OK(session);
    const char q = e == engine::mysql ? '`' : '"';
    REQUIRE_OK((*session)->execute(
        std::string("DROP TABLE IF EXISTS ") + q + connectors::scd2_events_name(history) + q, {}));
}

// Change events (id, seq, op, name): out-of-order updates, a delete followed by a late older
// insert, a delete of a key never seen, operations spelled every accepted way.
connectors::schema event_schema() {
    return {{col("id", column_type::int64, false), col("seq", column_type::int64, false),
             col("op", column_type::text), col("name", column_type::text)}};
}

std::vector<cells> change_events() {
    using s = std::string;
    const std::optional<std::string> null;
    return {
        {s("1"), s("1"), s("insert"), s("a")},  {s("1"), s("2"), s("U"), s("b")},
        {s("1"), s("3"), s("update"), s("c")},  {s("2"), s("1"), s("I"), s("x")},
        {s("2"), s("4"), s("DELETE"), null},    {s("2"), s("2"), s("u"), s("y")},
        {s("3"), s("5"), s("c"), s("p")},       {s("3"), s("3"), s("Insert"), s("q")},
        {s("4"), s("2"), s("d"), null},         {s("4"), s("1"), s("i"), s("late")},
        {s("5"), s("7"), s("insert"), s("z1")}, {s("5"), s("8"), s("delete"), null},
        {s("5"), s("9"), s("insert"), s("z2")},
    };
}

// The table after applying `events` in sequence order: per id the highest sequence wins; a
// delete leaves a tombstone.
std::vector<cells> applied_in_order(const std::vector<cells>& events) {
    std::map<long long, cells> newest;
    for (const auto& ev : events) {
        const long long id = std::stoll(*ev[0]);
        auto it = newest.find(id);
        if (it == newest.end() || std::stoll(*it->second[1]) < std::stoll(*ev[1])) {
            newest[id] = ev;
        }
    }
    std::vector<cells> out;
    for (auto& [id, row] : newest) {
        const auto kind = connectors::parse_operation(*row[2]);
        row.push_back(kind == connectors::change_kind::remove ? "true" : "false");
        out.push_back(row);
    }
    return out;
}

// History events (id, seq, op, name, city, note); name and city are tracked, note is not.
connectors::schema history_event_schema() {
    return {{col("id", column_type::int64, false), col("seq", column_type::int64, false),
             col("op", column_type::text), col("name", column_type::text),
             col("city", column_type::text), col("note", column_type::text)}};
}

std::vector<cells> history_events() {
    using s = std::string;
    const std::optional<std::string> null;
    return {
        // id 1: an untracked change, a tracked one, a delete, a re-insert
        {s("1"), s("1"), s("insert"), s("a"), s("X"), s("n1")},
        {s("1"), s("2"), s("update"), s("a"), s("X"), s("n2")},
        {s("1"), s("3"), s("update"), s("b"), s("X"), s("n3")},
        {s("1"), s("5"), s("delete"), null, null, null},
        {s("1"), s("6"), s("insert"), s("c"), s("Y"), s("n6")},
        // id 2: city then name change
        {s("2"), s("1"), s("insert"), s("m"), s("P"), null},
        {s("2"), s("2"), s("update"), s("m"), s("Q"), null},
        {s("2"), s("4"), s("update"), s("k"), s("Q"), null},
        // id 3: only untracked changes: one version, updated in place
        {s("3"), s("2"), s("insert"), s("u"), s("V"), s("x")},
        {s("3"), s("3"), s("update"), s("u"), s("V"), s("y")},
        {s("3"), s("7"), s("update"), s("u"), s("V"), s("z")},
        // id 4: seq 3 looks untracked next to seq 1, but seq 2 changed the name in between
        {s("4"), s("1"), s("insert"), s("p"), s("X"), s("n")},
        {s("4"), s("3"), s("update"), s("p"), s("X"), s("m")},
        {s("4"), s("2"), s("update"), s("q"), s("X"), s("o")},
        // id 5: a stale update arrives after the delete it precedes
        {s("5"), s("11"), s("insert"), s("b"), s("F"), null},
        {s("5"), s("21"), s("delete"), null, null, null},
        {s("5"), s("15"), s("update"), s("b"), s("G"), null},
    };
}

// The versions (id, seq, op, name, city, note, valid_from, valid_to, is_current) ordered by id,
// seq: sequence and valid_from of the opening event, the other columns of the version's last.
std::vector<cells> expected_history() {
    using s = std::string;
    const std::optional<std::string> null;
    return {
        {s("1"), s("1"), s("update"), s("a"), s("X"), s("n2"), s("1"), s("3"), s("false")},
        {s("1"), s("3"), s("update"), s("b"), s("X"), s("n3"), s("3"), s("5"), s("false")},
        {s("1"), s("6"), s("insert"), s("c"), s("Y"), s("n6"), s("6"), null, s("true")},
        {s("2"), s("1"), s("insert"), s("m"), s("P"), null, s("1"), s("2"), s("false")},
        {s("2"), s("2"), s("update"), s("m"), s("Q"), null, s("2"), s("4"), s("false")},
        {s("2"), s("4"), s("update"), s("k"), s("Q"), null, s("4"), null, s("true")},
        {s("3"), s("2"), s("update"), s("u"), s("V"), s("z"), s("2"), null, s("true")},
        {s("4"), s("1"), s("insert"), s("p"), s("X"), s("n"), s("1"), s("2"), s("false")},
        {s("4"), s("2"), s("update"), s("q"), s("X"), s("o"), s("2"), s("3"), s("false")},
        {s("4"), s("3"), s("update"), s("p"), s("X"), s("m"), s("3"), null, s("true")},
        {s("5"), s("11"), s("insert"), s("b"), s("F"), null, s("11"), s("15"), s("false")},
        {s("5"), s("15"), s("update"), s("b"), s("G"), null, s("15"), s("21"), s("false")},
    };
}

}  // namespace

TEST_CASE("sequenced upsert applies shuffled change events as in sequence order",
          "[connectors][sink][modes]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::sqlite, engine::clickhouse}) {
        INFO(engine_name(e));
        const auto columns = event_schema();
        const std::string table = fx.table(e, "seq_upsert");
        auto out = fx.sink(e);
        REQUIRE(out->supports(connectors::write_mode::upsert));
        connectors::write_request w;
        w.table = table;
        w.columns = &columns;
        w.mode = connectors::write_mode::upsert;
        w.key = {"id"};
        w.sequence = "seq";
        w.operation = "op";
        auto layout = connectors::sink_table_schema(columns, w);
        REQUIRE_OK(layout);
        CHECK(layout->columns.back().name == "_deleted");
        REQUIRE_OK(out->create_table(table, *layout, connectors::sink_create_options(w)));

        const auto events = change_events();
        const auto expected = applied_in_order(events);
        write_events(*out, w, shuffled(events, 1), 3);
        require_equal_rows(*layout, expected, fx.read_all(e, table, *layout),
                           engine_name(e) + " shuffled");

        // A replay (other batches, other order) changes nothing; a delete followed by a late
        // older insert stays deleted.
        write_events(*out, w, shuffled(events, 2), 5);
        write_events(*out, w, shuffled(events, 3), events.size());
        const auto after = fx.read_all(e, table, *layout);
        require_equal_rows(*layout, expected, after, engine_name(e) + " replayed");
        REQUIRE(after.size() == 5);
        CHECK(connectors::parse_boolean(after[1][4].value_or("")) == true);
        CHECK(connectors::parse_boolean(after[3][4].value_or("")) == true);
        CHECK(after[2][3] == std::optional<std::string>("p"));

        // A newer insert brings a deleted key back.
        write_events(*out, w, {{"2", "10", "insert", "back"}}, 1);
        const auto revived = fx.read_all(e, table, *layout);
        CHECK(revived[1][3] == std::optional<std::string>("back"));
        CHECK(connectors::parse_boolean(revived[1][4].value_or("")) == false);
    }
}

TEST_CASE("sequenced upsert without an operation column never lets an older event win",
          "[connectors][sink][modes]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::sqlite, engine::clickhouse}) {
        INFO(engine_name(e));
        const connectors::schema columns{{col("id", column_type::int64, false),
                                          col("seq", column_type::int64, false),
                                          col("name", column_type::text)}};
        const std::string table = fx.table(e, "seq_plain");
        auto out = fx.sink(e);
        connectors::write_request w;
        w.table = table;
        w.columns = &columns;
        w.mode = connectors::write_mode::upsert;
        w.key = {"id"};
        w.sequence = "seq";
        auto layout = connectors::sink_table_schema(columns, w);
        REQUIRE_OK(layout);
        CHECK(layout->columns.size() == 3);
        REQUIRE_OK(out->create_table(table, *layout, connectors::sink_create_options(w)));
        // One batch holding several events of a key: the highest sequence wins.
        write_events(*out, w, {{"1", "5", "e"}, {"1", "9", "i"}, {"1", "7", "g"}, {"2", "1", "a"}},
                     4);
        write_events(*out, w, {{"1", "8", "h"}, {"2", "2", "b"}}, 2);
        require_equal_rows(columns, {{"1", "9", "i"}, {"2", "2", "b"}},
                           fx.read_all(e, table, columns), engine_name(e));
    }
}

TEST_CASE(
    "scd2 builds the same history from shuffled events as from ordered ones, and replays "
    "are idempotent",
    "[connectors][sink][modes]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::sqlite}) {
        INFO(engine_name(e));
        const auto columns = history_event_schema();
        auto out = fx.sink(e);
        REQUIRE(out->supports(connectors::write_mode::scd2));
        connectors::write_request w;
        w.columns = &columns;
        w.mode = connectors::write_mode::scd2;
        w.key = {"id"};
        w.sequence = "seq";
        w.operation = "op";
        w.tracked = {"name", "city"};
        auto layout = connectors::sink_table_schema(columns, w);
        REQUIRE_OK(layout);
        REQUIRE(layout->columns.size() == columns.columns.size() + 3);

        const auto events = history_events();
        const std::string ordered = fx.table(e, "hist_ordered");
        const std::string mixed = fx.table(e, "hist_shuffled");
        for (const auto& t : {ordered, mixed}) {
            REQUIRE_OK(out->create_table(t, *layout, connectors::sink_create_options(w)));
        }
        w.table = ordered;
        write_events(*out, w, events, 1);
        const auto want = expected_history();
        require_equal_rows(*layout, want, read_ordered(fx, e, ordered, *layout, {"id", "seq"}),
                           engine_name(e) + " in order");

        w.table = mixed;
        write_events(*out, w, shuffled(events, 7), 2);
        require_equal_rows(*layout, want, read_ordered(fx, e, mixed, *layout, {"id", "seq"}),
                           engine_name(e) + " shuffled");
        write_events(*out, w, shuffled(events, 8), 4);
        write_events(*out, w, events, events.size());
        require_equal_rows(*layout, want, read_ordered(fx, e, mixed, *layout, {"id", "seq"}),
                           engine_name(e) + " replayed");

        // A late event slots in between two versions of id 2.
        write_events(*out, w, {{"2", "3", "update", "j", "Q", std::nullopt}}, 1);
        const auto later = read_ordered(fx, e, mixed, *layout, {"id", "seq"});
        REQUIRE(later.size() == want.size() + 1);
        CHECK(later[4][7] == std::optional<std::string>("3"));  // seq 2 now ends at 3
        CHECK(later[5][7] == std::optional<std::string>("4"));  // the late version ends at 4
        CHECK(later[6][7] == std::nullopt);
        CHECK(connectors::parse_boolean(later[6][8].value_or("")) == true);
        for (const auto& t : {ordered, mixed}) {
            drop_events_table(fx, e, t);
        }
    }
}

TEST_CASE("scd2 valid_from can come from its own column", "[connectors][sink][modes]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::sqlite}) {
        INFO(engine_name(e));
        const connectors::schema columns{
            {col("id", column_type::int64, false), col("lsn", column_type::int64, false),
             col("changed_at", column_type::timestamp, false), col("name", column_type::text)}};
        auto out = fx.sink(e);
        connectors::write_request w;
        w.table = fx.table(e, "hist_vf");
        w.columns = &columns;
        w.mode = connectors::write_mode::scd2;
        w.key = {"id"};
        w.sequence = "lsn";
        w.valid_from = "changed_at";
        auto layout = connectors::sink_table_schema(columns, w);
        REQUIRE_OK(layout);
        CHECK(layout->columns[4].type == column_type::timestamp);
        REQUIRE_OK(out->create_table(w.table, *layout, connectors::sink_create_options(w)));
        write_events(
            *out, w,
            {{"1", "20", "2026-01-02 00:00:00", "b"}, {"1", "10", "2026-01-01 00:00:00", "a"}}, 1);
        const auto rows = read_ordered(fx, e, w.table, *layout, {"id", "lsn"});
        require_equal_rows(
            *layout,
            {{"1", "10", "2026-01-01 00:00:00", "a", "2026-01-01 00:00:00", "2026-01-02 00:00:00",
              "false"},
             {"1", "20", "2026-01-02 00:00:00", "b", "2026-01-02 00:00:00", std::nullopt, "true"}},
            rows, engine_name(e));
        drop_events_table(fx, e, w.table);
    }
}

TEST_CASE("replace swaps a staging table in: readers see the old rows until the swap",
          "[connectors][sink][modes]") {
    connector_fixture fx;
    for (engine e : all_engines()) {
        INFO(engine_name(e));
        const connectors::schema columns{
            {col("id", column_type::int64, false), col("name", column_type::text)}};
        const std::string table = fx.table(e, "replaced");
        fx.load(e, table, columns, {{"1", "old1"}, {"2", "old2"}});
        connectors::create_options options;
        options.key = {"id"};

        // A crashed attempt left a staging table with rows behind.
        {
            auto crashed = fx.sink(e);
            auto staging = crashed->begin_replace(table, columns, options);
            REQUIRE_OK(staging);
            connectors::write_request w;
            w.table = *staging;
            w.columns = &columns;
            REQUIRE_OK(crashed->write(w, batch_of({{"99", "junk"}}, 2)));
        }

        auto out = fx.sink(e);
        auto staging = out->begin_replace(table, columns, options);
        REQUIRE_OK(staging);
        CHECK(*staging != table);
        connectors::write_request w;
        w.table = *staging;
        w.columns = &columns;
        REQUIRE_OK(out->begin());
        REQUIRE_OK(out->write(w, batch_of({{"3", "new3"}, {"4", "new4"}, {"5", "new5"}}, 2)));
        REQUIRE_OK(out->commit());
        // Another connection still reads the old rows.
        require_equal_rows(columns, {{"1", "old1"}, {"2", "old2"}}, fx.read_all(e, table, columns),
                           engine_name(e) + " before the swap");
        REQUIRE_OK(out->finish_replace(*staging, table));
        require_equal_rows(columns, {{"3", "new3"}, {"4", "new4"}, {"5", "new5"}},
                           fx.read_all(e, table, columns), engine_name(e) + " after the swap");
        auto left = out->describe_table(*staging);
        REQUIRE_OK(left);
        CHECK(!left->has_value());

        // Replace into a table that does not exist yet.
        const std::string fresh = fx.table(e, "replaced_new");
        auto staging2 = out->begin_replace(fresh, columns, options);
        REQUIRE_OK(staging2);
        w.table = *staging2;
        REQUIRE_OK(out->write(w, batch_of({{"7", "seven"}}, 2)));
        REQUIRE_OK(out->finish_replace(*staging2, fresh));
        require_equal_rows(columns, {{"7", "seven"}}, fx.read_all(e, fresh, columns),
                           engine_name(e) + " new table");

        // An abandoned replace leaves the table alone and no staging behind.
        auto staging3 = out->begin_replace(fresh, columns, options);
        REQUIRE_OK(staging3);
        REQUIRE_OK(out->abandon_replace(*staging3));
        left = out->describe_table(*staging3);
        REQUIRE_OK(left);
        CHECK(!left->has_value());
        CHECK(fx.read_all(e, fresh, columns).size() == 1);
    }
}

TEST_CASE("replace inside the caller's transaction swaps at its commit, or not at all",
          "[connectors][sink][modes]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::sqlite}) {
        INFO(engine_name(e));
        const connectors::schema columns{
            {col("id", column_type::int64, false), col("name", column_type::text)}};
        const std::string table = fx.table(e, "replaced_tx");
        fx.load(e, table, columns, {{"1", "old"}});
        connectors::create_options options;
        options.key = {"id"};
        auto out = fx.sink(e);
        connectors::write_request w;
        w.columns = &columns;

        // Rolled back: the table keeps its rows, the staging table can be abandoned.
        auto staging = out->begin_replace(table, columns, options);
        REQUIRE_OK(staging);
        w.table = *staging;
        REQUIRE_OK(out->begin());
        REQUIRE_OK(out->write(w, batch_of({{"2", "lost"}}, 2)));
        REQUIRE_OK(out->finish_replace(*staging, table));
        REQUIRE_OK(out->rollback());
        require_equal_rows(columns, {{"1", "old"}}, fx.read_all(e, table, columns),
                           engine_name(e) + " rolled back");
        REQUIRE_OK(out->abandon_replace(*staging));

        // Committed with the checkpoint: the rows and the mark arrive together.
        staging = out->begin_replace(table, columns, options);
        REQUIRE_OK(staging);
        w.table = *staging;
        REQUIRE_OK(out->begin());
        REQUIRE_OK(out->write(w, batch_of({{"3", "new"}}, 2)));
        require_equal_rows(columns, {{"1", "old"}}, fx.read_all(e, table, columns),
                           engine_name(e) + " before the swap");
        // (From here to the commit PostgreSQL readers of the table wait for the rename's lock,
        // then read the new table.)
        REQUIRE_OK(out->finish_replace(*staging, table));
        REQUIRE_OK(out->write_checkpoint({"job/replace/" + table, "{}"}));
        REQUIRE_OK(out->commit());
        require_equal_rows(columns, {{"3", "new"}}, fx.read_all(e, table, columns),
                           engine_name(e) + " committed");
        auto mark = out->read_checkpoint("job/replace/" + table);
        REQUIRE_OK(mark);
        CHECK(mark->has_value());
    }
}

TEST_CASE("write modes fail permanently with a clear message on bad requests and events",
          "[connectors][sink][modes]") {
    connector_fixture fx;
    const auto columns = event_schema();
    connectors::write_request w;
    w.columns = &columns;
    w.mode = connectors::write_mode::upsert;
    w.sequence = "seq";
    w.operation = "op";
    for (engine e : {engine::postgres, engine::mysql, engine::sqlite, engine::clickhouse}) {
        INFO(engine_name(e));
        auto out = fx.sink(e);
        w.table = fx.table(e, "bad_events");
        w.mode = connectors::write_mode::upsert;
        w.key = {"id"};
        auto layout = connectors::sink_table_schema(columns, w);
        REQUIRE_OK(layout);
        REQUIRE_OK(out->create_table(w.table, *layout, connectors::sink_create_options(w)));

        w.key = {"missing"};
        auto r = out->write(w, batch_of({{"1", "1", "insert", "a"}}, 4));
        REQUIRE(!r);
        CHECK(r.error().cls == core::error_class::permanent);
        CHECK_THAT(r.error().message, Catch::Contains("key column 'missing'"));

        w.key = {"id"};
        r = out->write(w, batch_of({{"1", "1", "insert", "a"}, {"2", "1", "merge", "b"}}, 4));
        REQUIRE(!r);
        CHECK(r.error().cls == core::error_class::permanent);
        CHECK_THAT(r.error().message, Catch::Contains("row 2") && Catch::Contains("'merge'"));

        r = out->write(w, batch_of({{"1", std::nullopt, "insert", "a"}}, 4));
        REQUIRE(!r);
        CHECK_THAT(r.error().message, Catch::Contains("'seq' is NULL"));
        CHECK(fx.read_all(e, w.table, *layout).empty());
    }

    auto ch = fx.sink(engine::clickhouse);
    CHECK(!ch->supports(connectors::write_mode::scd2));
    w.mode = connectors::write_mode::scd2;
    w.table = fx.table(engine::clickhouse, "no_scd2");
    auto r = ch->write(w, batch_of({{"1", "1", "insert", "a"}}, 4));
    REQUIRE(!r);
    CHECK(r.error().cls == core::error_class::permanent);
    CHECK_THAT(r.error().message, Catch::Contains("scd2"));

    for (engine e : {engine::csv, engine::jsonl}) {
        auto file = fx.sink(e);
        CHECK(!file->supports(connectors::write_mode::upsert));
        CHECK(!file->supports(connectors::write_mode::scd2));
        w.mode = connectors::write_mode::upsert;
        w.table = fx.table(e, "no_upsert");
        r = file->write(w, batch_of({{"1", "1", "insert", "a"}}, 4));
        REQUIRE(!r);
        CHECK(r.error().cls == core::error_class::permanent);
    }
}

}  // namespace sluice::test
