// PostgreSQL -> PostgreSQL copy throughput through the connectors (COPY TO STDOUT decoded into
// row_batch cells, re-encoded into COPY FROM STDIN) against the raw bulk path on the same
// server in the same run (COPY lines handed straight from one connection to the other).
// Needs SLUICE_TEST_PG_URL (scripts/run-bench.sh starts the test servers); rows from
// SLUICE_BENCH_ROWS (default 1,000,000) in a 12-column table.

#include <cstdlib>
#include <libpq-fe.h>
#include <stdexcept>
#include <string>

#include <benchmark/benchmark.h>

#include "config/spec.hpp"
#include "connectors/postgres_connector.hpp"

namespace {

using namespace sluice;

std::string pg_url() {
    const char* url = std::getenv("SLUICE_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
        throw std::runtime_error(
            "SLUICE_TEST_PG_URL is not set: run scripts/run-bench.sh, which starts the servers");
    }
    return url;
}

long bench_rows() {
    const char* n = std::getenv("SLUICE_BENCH_ROWS");
    return n != nullptr ? std::atol(n) : 1000000;
}

PGconn* connect() {
    PGconn* c = PQconnectdb(pg_url().c_str());
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    if (PQstatus(c) != CONNECTION_OK) {
        throw std::runtime_error(std::string("cannot connect: ") + PQerrorMessage(c));
    }
    return c;
}

void exec(PGconn* c, const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto s = PQresultStatus(r);
    PQclear(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        throw std::runtime_error(sql + ": " + PQerrorMessage(c));
    }
}

constexpr const char* columns_ddl =
    "(id bigint PRIMARY KEY, a integer, b bigint, c numeric(12,2), d double precision, e text, "
    "f text, g timestamptz, h date, i boolean, j real, k text)";

// The source table, filled once per process.
void ensure_source() {
    static bool done = false;
    if (done) {
        return;
    }
    PGconn* c = connect();
    exec(c, "DROP TABLE IF EXISTS bench_src; DROP TABLE IF EXISTS bench_dst");
    exec(c, std::string("CREATE TABLE bench_src ") + columns_ddl);
    exec(c, std::string("CREATE TABLE bench_dst ") + columns_ddl);
    exec(c,
         "INSERT INTO bench_src SELECT g, g % 100000, g::bigint * 7919, (g % 100000) / 100.0, g / 3.0, "
         "md5(g::text), 'customer-' || (g % 5000), timestamptz '2026-01-01' + g * interval '1 "
         "second', date '2020-01-01' + (g % 2000), g % 2 = 0, (g % 1000) / 7.0, "
         "repeat('x', 20 + g % 20) FROM generate_series(1, " +
             std::to_string(bench_rows()) + ") g");
    exec(c, "VACUUM ANALYZE bench_src");
    PQfinish(c);
    done = true;
}

// The raw bulk path: psql -c "COPY t TO STDOUT" | psql -c "COPY t FROM STDIN", in process.
void raw_copy(benchmark::State& state) {
    ensure_source();
    PGconn* in = connect();
    PGconn* out = connect();
    long rows = 0;
    for (auto _ : state) {
        state.PauseTiming();
        exec(out, "TRUNCATE bench_dst");
        state.ResumeTiming();
        PGresult* r = PQexec(in, "COPY bench_src TO STDOUT");
        PQclear(r);
        r = PQexec(out, "COPY bench_dst FROM STDIN");
        PQclear(r);
        char* line = nullptr;
        int n = 0;
        while ((n = PQgetCopyData(in, &line, 0)) > 0) {
            PQputCopyData(out, line, n);
            PQfreemem(line);
            ++rows;
        }
        PQclear(PQgetResult(in));
        PQputCopyEnd(out, nullptr);
        PGresult* done = PQgetResult(out);
        if (PQresultStatus(done) != PGRES_COMMAND_OK) {
            state.SkipWithError(PQerrorMessage(out));
        }
        PQclear(done);
    }
    state.SetItemsProcessed(rows);
    PQfinish(in);
    PQfinish(out);
}

void connectors_copy(benchmark::State& state) {
    ensure_source();
    config::connection_spec spec;
    spec.name = "bench";
    spec.type = config::connection_type::postgres;
    spec.url = pg_url();
    auto source = connectors::open_postgres_source(spec);
    auto sink = connectors::open_postgres_sink(spec);
    if (!source || !sink) {
        state.SkipWithError("cannot connect");
        return;
    }
    PGconn* admin = connect();
    long rows = 0;
    for (auto _ : state) {
        state.PauseTiming();
        exec(admin, "TRUNCATE bench_dst");
        state.ResumeTiming();
        connectors::read_request r;
        r.table = "bench_src";
        r.limits.max_rows = static_cast<std::size_t>(state.range(0));
        auto reader = (*source)->read(r);
        if (!reader) {
            state.SkipWithError(reader.error().message.c_str());
            break;
        }
        const connectors::schema columns = (*reader)->schema();
        connectors::write_request w;
        w.table = "bench_dst";
        w.columns = &columns;
        connectors::row_batch batch;
        for (auto more = (*reader)->next(batch); more && *more; more = (*reader)->next(batch)) {
            auto written = (*sink)->write(w, batch);
            if (!written) {
                state.SkipWithError(written.error().message.c_str());
                break;
            }
            rows += static_cast<long>(batch.row_count());
        }
    }
    state.SetItemsProcessed(rows);
    PQfinish(admin);
}

}  // namespace

BENCHMARK(raw_copy)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(connectors_copy)
    ->Arg(10000)
    ->Arg(50000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

BENCHMARK_MAIN();
