// Memory does not grow with table size: 500,000 rows of ~200 bytes (about 100 MB) stream from
// PostgreSQL into PostgreSQL and into ClickHouse through the connectors while the process's
// peak RSS stays far below the data size. ctest runs each test case in its own process, so the
// peak belongs to this copy alone.

#include <sys/resource.h>

#include <catch2/catch.hpp>

#include "connectors/sql_session.hpp"
#include "tests/component/connectors/connector_fixture.hpp"

namespace sluice::test {

namespace {

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

}  // namespace

TEST_CASE("copying 100 MB through the connectors keeps the peak RSS under 64 MiB",
          "[connectors][memory][slow]") {
    connector_fixture fx;
    const long rows = 500000;
    auto src = fx.source(engine::postgres);
    connectors::read_request r;
    r.query =
        "SELECT g AS id, md5(g::text) || repeat('x', 150) AS pad, now() AS ts FROM "
        "generate_series(1, " +
        std::to_string(rows) + ") g";
    r.limits.max_rows = 10000;
    for (engine to : {engine::postgres, engine::clickhouse}) {
        INFO(engine_name(to));
        auto reader = src->read(r);
        REQUIRE_OK(reader);
        const connectors::schema columns = (*reader)->schema();
        auto out = fx.sink(to);
        const std::string table = fx.table(to, "memory");
        connectors::create_options options;
        options.key = {"id"};
        REQUIRE_OK(out->create_table(table, columns, options));
        connectors::write_request w;
        w.table = table;
        w.columns = &columns;
        connectors::row_batch batch;
        long copied = 0;
        for (;;) {
            auto more = (*reader)->next(batch);
            REQUIRE_OK(more);
            if (!*more) {
                break;
            }
            REQUIRE_OK(out->write(w, batch));
            copied += static_cast<long>(batch.row_count());
        }
        CHECK(copied == rows);
    }
    INFO("peak RSS " << peak_rss_kib() / 1024 << " MiB");
    CHECK(peak_rss_kib() < 64 * 1024);
}

}  // namespace sluice::test
