#pragma once

// Real engines for the connector tests: PostgreSQL, MariaDB and ClickHouse started by
// scripts/test-servers.sh (SLUICE_TEST_PG_URL, SLUICE_TEST_MYSQL_URL,
// SLUICE_TEST_CLICKHOUSE_URL; a missing one fails the test loudly), a SQLite file and CSV /
// JSON Lines files in a temp dir. Tables get names unique to this process and are dropped by
// the fixture's destructor.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/spec.hpp"
#include "connectors/connector_registry.hpp"

namespace sluice::test {

enum class engine { postgres, mysql, clickhouse, sqlite, csv, jsonl };

std::string engine_name(engine e);
std::vector<engine> all_engines();

using cells = std::vector<std::optional<std::string>>;

// The table every pair moves: one column of every portable type, rows with NULLs, extremes,
// unicode, tabs/newlines/backslashes/quotes, bytes with zeros. Values are canonical text.
connectors::schema golden_schema();
std::vector<cells> golden_rows();

// What `rows` become after passing through engines that cannot hold them exactly (ClickHouse
// DateTime keeps whole seconds).
std::vector<cells> expected_after(const std::vector<cells>& rows, const std::vector<engine>& path);

// Fails the test (with the row, column and both values) unless `actual` equals `expected`
// under the portable types of `columns`: numbers compare by value, booleans by truth, the
// rest byte for byte.
void require_equal_rows(const connectors::schema& columns, const std::vector<cells>& expected,
                        const std::vector<cells>& actual, const std::string& what);

class connector_fixture {
public:
    connector_fixture();
    ~connector_fixture();

    const connectors::connector_registry& registry() const { return registry_; }
    config::connection_spec spec(engine e) const;
    // A table (or file) name for `e` unique to this process; dropped at the end.
    std::string table(engine e, const std::string& stem);

    std::unique_ptr<connectors::source> source(engine e) const;
    std::unique_ptr<connectors::sink> sink(engine e) const;

    // Creates `table` on `e` with `columns` (key `id`) and writes `rows` through the sink.
    void load(engine e, const std::string& table, const connectors::schema& columns,
              const std::vector<cells>& rows);
    // Every row of `table` on `e`, ordered by `id` for databases (ClickHouse: FINAL); files are
    // typed by `expected`.
    std::vector<cells> read_all(engine e, const std::string& table,
                                const std::optional<connectors::schema>& expected,
                                connectors::schema* columns = nullptr);

    const std::filesystem::path& dir() const { return dir_; }

private:
    connectors::connector_registry registry_;
    std::filesystem::path dir_;
    std::string suffix_;
    std::string pg_url_;
    std::string mysql_url_;
    std::string clickhouse_url_;
    std::vector<std::pair<engine, std::string>> created_;
};

// Fails the test with the error's message when `r` holds an error.
#define REQUIRE_OK(r)                                               \
    do {                                                            \
        const auto& require_ok_result_ = (r);                       \
        if (!require_ok_result_) {                                  \
            FAIL(#r << ": " << require_ok_result_.error().message); \
        }                                                           \
    } while (false)

// Runs a statement on ClickHouse over HTTP and returns the body; fails the test on an error.
std::string clickhouse_run(const std::string& url, const std::string& sql);

}  // namespace sluice::test
