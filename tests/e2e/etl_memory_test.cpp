// End-to-end: the real binary copies 5 million rows PostgreSQL -> PostgreSQL with a peak RSS
// under 64 MiB (docs/etl.md#batches-and-memory): memory follows the batch size, not the table. The
// peak is the kernel's (getrusage of the waited-for child). Named "peak RSS" so `make sanitize`
// leaves it out (ASan's shadow memory makes RSS meaningless there).
#include <fstream>
#include <sys/resource.h>

#include <catch2/catch.hpp>

#include "connectors/sql_session.hpp"
#include "daemon_process.hpp"
#include "process.hpp"
#include "tests/component/connectors/connector_fixture.hpp"

using sluice::test::connector_fixture;
using sluice::test::engine;
using sluice::test::run_sluice;
using sluice::test::temp_dir;
namespace connectors = sluice::connectors;

namespace {

constexpr long row_count = 5000000;
constexpr long max_rss_kib = 64 * 1024;

void execute(const connector_fixture& f, const std::string& sql) {
    auto session = connectors::open_sql_session(f.spec(engine::postgres));
    REQUIRE_OK(session);
    INFO(sql);
    REQUIRE_OK((*session)->execute(sql, {}));
}

long count_rows(const connector_fixture& f, const std::string& table) {
    auto source = f.source(engine::postgres);
    connectors::read_request r{};
    r.query.emplace("SELECT count(*) FROM " + table);
    auto reader = source->read(r);
    REQUIRE_OK(reader);
    connectors::row_batch batch;
    auto more = (*reader)->next(batch);
    REQUIRE_OK(more);
    REQUIRE(batch.row_count() == 1);
    return std::stol(std::string(batch.at(0, 0)));
}

}  // namespace

TEST_CASE("copying 5 million rows with the real binary keeps the peak RSS under 64 MiB",
          "[e2e][etl][memory]") {
    connector_fixture f;
    const std::string src = f.table(engine::postgres, "rss_src");
    const std::string dst = f.table(engine::postgres, "rss_dst");
    const std::string columns =
        "(id bigint PRIMARY KEY, a integer, b text, c numeric(12,2), d timestamptz, e text)";
    execute(f, "CREATE TABLE " + src + " " + columns);
    execute(f, "INSERT INTO " + src +
                   " SELECT g, g % 1000, md5(g::text), (g % 100000) / 100.0, timestamptz "
                   "'2026-01-01' + g * interval '1 second', repeat('x', 20 + g % 20) FROM "
                   "generate_series(1, " +
                   std::to_string(row_count) + ") g");
    execute(f, "CREATE TABLE " + dst + " " + columns);

    temp_dir dir;
    const auto config = dir.path() / "sluice.yaml";
    std::ofstream(config) << "store: {url: \"sqlite://" << (dir.path() / "sluice.db").string()
                          << "\"}\nconnections:\n  pg: {type: postgres, url: \""
                          << f.spec(engine::postgres).url
                          << "\"}\njobs:\n  big:\n    tasks:\n      copy:\n        type: copy\n"
                          << "        source: {connection: pg, table: " << src
                          << ", cursor: [id]}\n"
                          << "        sink: {connection: pg, table: " << dst << "}\n"
                          << "        batch_rows: 50000\n";
    const auto r = run_sluice({"run", "-c", config.string(), "big", "--no-logs"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(count_rows(f, dst) == row_count);

    rusage usage{};
    REQUIRE(::getrusage(RUSAGE_CHILDREN, &usage) == 0);
    INFO("peak RSS of the sluice process: " << usage.ru_maxrss << " KiB");
    CHECK(usage.ru_maxrss > 0);
    CHECK(usage.ru_maxrss < max_rss_kib);
}
