#include "connectors/write_modes.hpp"

#include <catch2/catch.hpp>

namespace sluice::connectors {

namespace {

column col(std::string name, column_type t, bool nullable = true) {
    column c;
    c.name = std::move(name);
    c.type = t;
    c.nullable = nullable;
    return c;
}

schema events() {
    return {{col("id", column_type::int64), col("lsn", column_type::int64),
             col("op", column_type::text), col("name", column_type::text),
             col("at", column_type::timestamp_tz)}};
}

}  // namespace

TEST_CASE("operations: insert, update, delete in every accepted spelling", "[connectors][modes]") {
    for (const char* v : {"insert", "INSERT", "Update", "i", "I", "u", "U", "c", "C"}) {
        INFO(v);
        CHECK(parse_operation(v) == change_kind::upsert);
    }
    for (const char* v : {"delete", "DELETE", "d", "D"}) {
        INFO(v);
        CHECK(parse_operation(v) == change_kind::remove);
    }
    for (const char* v : {"", "x", "merge", "del", "r", " d"}) {
        INFO(v);
        CHECK(!parse_operation(v));
    }
}

TEST_CASE("sink tables: _deleted for upserts with operations, the history layout for scd2",
          "[connectors][modes]") {
    const auto batch = events();
    write_request w;
    w.table = "t";
    w.key = {"id"};
    w.mode = write_mode::append;
    auto s = sink_table_schema(batch, w);
    REQUIRE(s.has_value());
    CHECK(s->columns == batch.columns);

    w.mode = write_mode::upsert;
    w.sequence = "lsn";
    s = sink_table_schema(batch, w);
    REQUIRE(s.has_value());
    CHECK(s->columns == batch.columns);
    CHECK(sink_create_options(w).key == std::vector<std::string>{"id"});
    CHECK(sink_create_options(w).version_column == "lsn");

    w.operation = "op";
    s = sink_table_schema(batch, w);
    REQUIRE(s.has_value());
    REQUIRE(s->columns.size() == batch.columns.size() + 1);
    CHECK(s->columns.back().name == "_deleted");
    CHECK(s->columns.back().type == column_type::boolean);
    CHECK(!s->columns.back().nullable);

    w.mode = write_mode::scd2;
    w.valid_from = "at";
    s = sink_table_schema(batch, w);
    REQUIRE(s.has_value());
    REQUIRE(s->columns.size() == batch.columns.size() + 3);
    CHECK(s->columns[5].name == "valid_from");
    CHECK(s->columns[5].type == column_type::timestamp_tz);
    CHECK(!s->columns[5].nullable);
    CHECK(s->columns[6].name == "valid_to");
    CHECK(s->columns[6].type == column_type::timestamp_tz);
    CHECK(s->columns[6].nullable);
    CHECK(s->columns[7].name == "is_current");
    CHECK(!s->columns[0].nullable);  // key
    CHECK(!s->columns[1].nullable);  // sequence
    CHECK(sink_create_options(w).key == std::vector<std::string>{"id", "lsn"});
    CHECK(!sink_create_options(w).version_column);

    w.valid_from.reset();  // defaults to the sequence
    s = sink_table_schema(batch, w);
    REQUIRE(s.has_value());
    CHECK(s->columns[5].type == column_type::int64);
}

TEST_CASE("write plans: default tracked columns and clear errors", "[connectors][modes]") {
    const auto batch = events();
    write_request w;
    w.table = "hist";
    w.columns = &batch;
    w.mode = write_mode::scd2;
    w.key = {"id"};
    w.sequence = "lsn";
    w.operation = "op";
    w.valid_from = "at";
    auto plan = plan_write(w, "wh");
    REQUIRE(plan.has_value());
    CHECK(plan->tracked == std::vector<std::size_t>{3});
    CHECK(plan->extra_valid_from);

    w.tracked = {"nope"};
    plan = plan_write(w, "wh");
    REQUIRE(!plan);
    CHECK(plan.error().cls == core::error_class::permanent);
    CHECK(plan.error().message ==
          "connection 'wh': mode scd2 into hist: tracked column 'nope' is not a column of the "
          "batch");

    w.tracked.clear();
    w.sequence.reset();
    plan = plan_write(w, "wh");
    REQUIRE(!plan);
    CHECK_THAT(plan.error().message, Catch::Contains("needs a sequence column"));

    schema clash = batch;
    clash.columns.push_back(col("valid_to", column_type::text));
    w.columns = &clash;
    w.sequence = "lsn";
    plan = plan_write(w, "wh");
    REQUIRE(!plan);
    CHECK_THAT(plan.error().message, Catch::Contains("'valid_to'"));

    w.columns = &batch;
    w.mode = write_mode::upsert;
    w.key.clear();
    plan = plan_write(w, "wh");
    REQUIRE(!plan);
    CHECK_THAT(plan.error().message, Catch::Contains("needs key columns"));
}

TEST_CASE("change events are checked before anything is written", "[connectors][modes]") {
    const auto batch = events();
    write_request w;
    w.table = "cur";
    w.columns = &batch;
    w.mode = write_mode::upsert;
    w.key = {"id"};
    w.sequence = "lsn";
    w.operation = "op";
    auto plan = plan_write(w, "wh");
    REQUIRE(plan.has_value());
    row_batch rows(5);
    for (const char* op : {"insert", "D", "u"}) {
        rows.add("1");
        rows.add("7");
        rows.add(op);
        rows.add_null();
        rows.add("2026-01-01 00:00:00");
    }
    std::vector<bool> deleted;
    REQUIRE(check_events(*plan, w, rows, "wh", deleted).has_value());
    CHECK(deleted == std::vector<bool>{false, true, false});

    rows.add("2");
    rows.add("8");
    rows.add("upsert");
    rows.add_null();
    rows.add_null();
    auto r = check_events(*plan, w, rows, "wh", deleted);
    REQUIRE(!r);
    CHECK(r.error().message ==
          "connection 'wh': writing into cur: row 4 of the batch: operation 'upsert' in column "
          "'op' is not insert, update or delete (nor I/U/D or c/u/d)");
}

}  // namespace sluice::connectors
