// Every source x sink pair moves the golden table (every portable type, NULLs, extremes,
// unicode, control characters, bytes with zeros) and the rows compare equal.

#include <catch2/catch.hpp>

#include "tests/component/connectors/connector_fixture.hpp"

namespace sluice::test {

namespace {

// Loads the golden table into `from`, copies it into a new table on every sink through the
// connectors' own read and write paths, reads each back and compares with the golden rows.
void copy_to_every_sink(engine from) {
    connector_fixture fx;
    const auto golden = golden_schema();
    const std::string source_table = fx.table(from, "golden");
    fx.load(from, source_table, golden, golden_rows());

    for (engine to : all_engines()) {
        const std::string what = engine_name(from) + " -> " + engine_name(to);
        INFO(what);
        auto src = fx.source(from);
        connectors::read_request r;
        r.table = source_table;
        if (from != engine::csv && from != engine::jsonl) {
            r.order_by = {"id"};
        }
        r.expected = golden;  // types for the untyped file sources; databases ignore it
        r.limits.max_rows = 4;
        auto reader = src->read(r);
        if (!reader) {
            FAIL(what << ": read: " << reader.error().message);
        }
        const connectors::schema source_columns = (*reader)->schema();
        REQUIRE(source_columns.columns.size() == golden.columns.size());

        auto out = fx.sink(to);
        const std::string sink_table = fx.table(to, "copy_" + engine_name(from));
        connectors::create_options options;
        options.key = {"id"};
        auto created = out->create_table(sink_table, source_columns, options);
        if (!created) {
            FAIL(what << ": create: " << created.error().message);
        }
        connectors::write_request w;
        w.table = sink_table;
        w.columns = &source_columns;
        connectors::row_batch batch;
        int batches = 0;
        for (;;) {
            auto more = (*reader)->next(batch);
            if (!more) {
                FAIL(what << ": read: " << more.error().message);
            }
            if (!*more) {
                break;
            }
            ++batches;
            REQUIRE_OK(out->begin());
            auto written = out->write(w, batch);
            if (!written) {
                FAIL(what << ": write: " << written.error().message);
            }
            REQUIRE_OK(out->commit());
        }
        CHECK(batches == 2);  // 6 rows, 4 per batch

        const auto back = fx.read_all(to, sink_table, golden);
        require_equal_rows(golden, expected_after(golden_rows(), {from, to}), back, what);
    }
}

}  // namespace

TEST_CASE("every type survives postgres to every sink", "[connectors][types]") {
    copy_to_every_sink(engine::postgres);
}

TEST_CASE("every type survives mysql to every sink", "[connectors][types]") {
    copy_to_every_sink(engine::mysql);
}

TEST_CASE("every type survives clickhouse to every sink", "[connectors][types]") {
    copy_to_every_sink(engine::clickhouse);
}

TEST_CASE("every type survives sqlite to every sink", "[connectors][types]") {
    copy_to_every_sink(engine::sqlite);
}

TEST_CASE("every type survives csv files to every sink", "[connectors][types]") {
    copy_to_every_sink(engine::csv);
}

TEST_CASE("every type survives json lines files to every sink", "[connectors][types]") {
    copy_to_every_sink(engine::jsonl);
}

}  // namespace sluice::test
