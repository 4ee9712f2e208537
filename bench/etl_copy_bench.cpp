// PostgreSQL -> PostgreSQL copy throughput through the connectors (COPY TO STDOUT decoded into
// row_batch cells, re-encoded into COPY FROM STDIN) against the raw bulk path on the same
// server in the same run (COPY lines handed straight from one connection to the other, by raw
// libpq and by libpqxx's tablereader/tablewriter), and the same table into MariaDB and ClickHouse
// through their sinks. Needs SLUICE_TEST_PG_URL, SLUICE_TEST_MYSQL_URL and
// SLUICE_TEST_CLICKHOUSE_URL (scripts/run-bench.sh starts the test servers); rows from
// SLUICE_BENCH_ROWS (default 1,000,000) in a 12-column table.

#include <cstdlib>
#include <functional>
#include <libpq-fe.h>
#include <stdexcept>
#include <string>

#include <benchmark/benchmark.h>
#include <pqxx/connection>
#include <pqxx/tablereader>
#include <pqxx/tablewriter>
#include <pqxx/transaction>

#include "config/spec.hpp"
#include "connectors/clickhouse/clickhouse_connector.hpp"
#include "connectors/connection_url.hpp"
#include "connectors/http_client.hpp"
#include "connectors/mysql/mysql_connector.hpp"
#include "connectors/postgres/postgres_connector.hpp"
#include "connectors/sql_session.hpp"

namespace {

using namespace sluice;

std::string env_url(const char* name) {
    const char* url = std::getenv(name);
    if (url == nullptr || *url == '\0') {
        throw std::runtime_error(std::string(name) +
                                 " is not set: run scripts/run-bench.sh, which starts the servers");
    }
    return url;
}

std::string pg_url() {
    return env_url("SLUICE_TEST_PG_URL");
}

long bench_rows() {
    const char* n = std::getenv("SLUICE_BENCH_ROWS");
    return n != nullptr ? std::atol(n) : 1000000;
}

PGconn* connect() {
    PGconn* c = PQconnectdb(pg_url().c_str());
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
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
         "INSERT INTO bench_src SELECT g, g % 100000, g::bigint * 7919, (g % 100000) / 100.0, g / "
         "3.0, "
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

// Arg 0: batch rows. Arg 1: the write mode: 0 append; 1 upsert on id into an empty table; 2
// upsert with sequence `b` into an empty table; 3 upsert with sequence `b` over a table holding
// every key with a lower sequence (each event updates its row).
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
    const auto mode = state.range(1);
    for (auto _ : state) {
        state.PauseTiming();
        exec(admin, "TRUNCATE bench_dst");
        if (mode == 3) {
            exec(admin,
                 "INSERT INTO bench_dst SELECT id, a, b - 1, c, d, e, f, g, h, i, j, k FROM "
                 "bench_src");
        }
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
        if (mode != 0) {
            w.mode = connectors::write_mode::upsert;
            w.key = {"id"};
        }
        if (mode >= 2) {
            w.sequence = "b";
        }
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

// libpqxx's line API: tablereader::get_raw_line -> tablewriter::write_raw_line. (Deprecated in
// 6.4 in favour of stream_from/stream_to, whose `to << from` corrupts rows in 6.4.) This is
// the libpqxx path the PostgreSQL connector would otherwise have used.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void pqxx_line_copy(benchmark::State& state) {
    ensure_source();
    pqxx::connection in(pg_url());
    pqxx::connection out(pg_url());
    PGconn* admin = connect();
    long rows = 0;
    for (auto _ : state) {
        state.PauseTiming();
        exec(admin, "TRUNCATE bench_dst");
        state.ResumeTiming();
        pqxx::work read_tx(in);
        pqxx::work write_tx(out);
        {
            pqxx::tablereader from(read_tx, "bench_src");
            pqxx::tablewriter to(write_tx, "bench_dst");
            std::string line;
            while (from.get_raw_line(line)) {
                to.write_raw_line(line);
                ++rows;
            }
            from.complete();
            to.complete();
        }
        write_tx.commit();
    }
    state.SetItemsProcessed(rows);
    PQfinish(admin);
}
#pragma GCC diagnostic pop

config::connection_spec spec_of(config::connection_type type, const std::string& url) {
    config::connection_spec spec;
    spec.name = "bench";
    spec.type = type;
    spec.url = url;
    return spec;
}

// bench_src through the PostgreSQL source into a fresh table on `sink` per iteration.
void copy_into(benchmark::State& state, connectors::sink& sink,
               const std::function<void(const std::string&)>& drop) {
    ensure_source();
    auto source =
        connectors::open_postgres_source(spec_of(config::connection_type::postgres, pg_url()));
    if (!source) {
        state.SkipWithError(source.error().message.c_str());
        return;
    }
    long rows = 0;
    int round = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const std::string table = "bench_dst_" + std::to_string(round++);
        drop(table);
        connectors::read_request r;
        r.table = "bench_src";
        r.limits.max_rows = 50000;
        auto reader = (*source)->read(r);
        if (!reader) {
            state.SkipWithError(reader.error().message.c_str());
            break;
        }
        const connectors::schema columns = (*reader)->schema();
        connectors::create_options options;
        options.key = {"id"};
        auto created = sink.create_table(table, columns, options);
        if (!created) {
            state.SkipWithError(created.error().message.c_str());
            break;
        }
        state.ResumeTiming();
        connectors::write_request w;
        w.table = table;
        w.columns = &columns;
        connectors::row_batch batch;
        for (auto more = (*reader)->next(batch); more && *more; more = (*reader)->next(batch)) {
            auto written = sink.write(w, batch);
            if (!written) {
                state.SkipWithError(written.error().message.c_str());
                break;
            }
            rows += static_cast<long>(batch.row_count());
        }
        state.PauseTiming();
        drop(table);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(rows);
}

void postgres_to_mysql(benchmark::State& state) {
    const std::string url = env_url("SLUICE_TEST_MYSQL_URL");
    auto sink = connectors::open_mysql_sink(spec_of(config::connection_type::mysql, url));
    auto admin = connectors::open_sql_session(spec_of(config::connection_type::mysql, url));
    if (!sink || !admin) {
        state.SkipWithError("cannot connect to MariaDB");
        return;
    }
    copy_into(state, **sink, [&](const std::string& table) {
        (void)(*admin)->execute("DROP TABLE IF EXISTS " + table, {});
    });
}

void postgres_to_clickhouse(benchmark::State& state) {
    const std::string url = env_url("SLUICE_TEST_CLICKHOUSE_URL");
    auto sink = connectors::open_clickhouse_sink(spec_of(config::connection_type::clickhouse, url));
    auto parsed = connectors::parse_connection_url(url);
    if (!sink || !parsed) {
        state.SkipWithError("cannot connect to ClickHouse");
        return;
    }
    const std::string db = parsed->query_value("database").value_or("default");
    copy_into(state, **sink, [&](const std::string& table) {
        connectors::http_client admin({false, parsed->host, parsed->port.value_or(8123), {}},
                                      std::chrono::seconds(10), std::chrono::seconds(60));
        if (admin.send("POST", "/", {}, "DROP TABLE IF EXISTS " + db + "." + table)) {
            (void)admin.read_body(1 << 20);
        }
    });
}

}  // namespace

BENCHMARK(pqxx_line_copy)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(postgres_to_mysql)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(postgres_to_clickhouse)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(raw_copy)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(connectors_copy)
    ->Args({10000, 0})
    ->Args({50000, 0})
    ->Args({50000, 1})
    ->Args({50000, 2})
    ->Args({50000, 3})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

BENCHMARK_MAIN();
