// `type: sql` on the ClickHouse 18.16 server of scripts/test-servers.sh
// (SLUICE_TEST_CLICKHOUSE_URL): statements over HTTP, parameters spliced in as escaped literals,
// errors classified by the server's exception code, and KILL QUERY on stop.
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "connectors/clickhouse/clickhouse_session.hpp"
#include "connectors/http_client.hpp"
#include "etl/sql_task.hpp"
#include "tests/component/etl/attempt_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using status = scheduler::task_outcome::status;

namespace {

std::string clickhouse_url() {
    return test::required_env("SLUICE_TEST_CLICKHOUSE_URL");
}

// Runs one statement on the test server and returns its TabSeparated output, trimmed.
std::string query(const std::string& sql) {
    auto where = connectors::locate_http_url(clickhouse_url());
    REQUIRE(where.has_value());
    connectors::http_client client(where->endpoint, 5s, 30s);
    auto head = client.send("POST", where->target, {}, sql);
    REQUIRE(head.has_value());
    auto body = client.read_body(1 << 20);
    REQUIRE(body.has_value());
    INFO(sql << "\n" << *body);
    REQUIRE(head->status == 200);
    std::string out = *body;
    while (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    return out;
}

// `url_settings` is appended to the connection url ("&max_memory_usage=..."): settings there go
// with every statement (18.16 ignores max_memory_usage in a SELECT's own SETTINGS clause).
std::string sql_yaml(const std::string& script, const std::string& url_settings = "") {
    std::string out = "connections:\n  ch: {type: clickhouse, url: \"" + clickhouse_url() +
                      url_settings +
                      "\"}\njobs:\n  j:\n    params: {day: {}, name: {}}\n    tasks:\n      t:\n"
                      "        type: sql\n"
                      "        connection: ch\n        sql: |\n";
    std::istringstream lines(script);
    for (std::string line; std::getline(lines, line);) {
        out += "          " + line + "\n";
    }
    return out;
}

std::string hex(const std::string& bytes) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0xf];
    }
    return out;
}

}  // namespace

TEST_CASE("clickhouse sql: DDL, INSERT SELECT and parameters with quotes and backslashes",
          "[etl][sql][clickhouse]") {
    const std::string nasty =
        "O'Brien \\' \\\\ back\\slash; -- not a comment ? /* no */ \"q\" `b`\n"
        "tab\there";
    test::attempt_fixture f(
        sql_yaml("DROP TABLE IF EXISTS kinds_sql_t;\n"
                 "CREATE TABLE kinds_sql_t (id UInt64, name String, day Date)\n"
                 "  ENGINE = MergeTree ORDER BY id;\n"
                 "-- a comment with :not_a_param; and a quote '\n"
                 "INSERT INTO kinds_sql_t SELECT number, concat('n', toString(number)),\n"
                 "  toDate(:param_day) FROM system.numbers LIMIT 5;\n"
                 "INSERT INTO kinds_sql_t SELECT 100, :param_name, toDate(:param_day);\n"
                 "INSERT INTO kinds_sql_t SELECT 101, ':kept; as \\'text', toDate('2026-01-01');\n"
                 "SELECT * FROM kinds_sql_t WHERE name = :param_name;"));
    f.context().params = {{"day", "2026-03-29"}, {"name", nasty}};
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(query("SELECT count(), min(day), max(day) FROM kinds_sql_t WHERE id < 100") ==
          "5\t2026-03-29\t2026-03-29");
    CHECK(query("SELECT hex(name) FROM kinds_sql_t WHERE id = 100") == hex(nasty));
    CHECK(query("SELECT hex(name) FROM kinds_sql_t WHERE id = 101") == hex(":kept; as 'text"));
    const auto system = f.texts(scheduler::output_line::stream::system);
    CHECK_THAT(system.at(0), Catch::Contains("clickhouse connection 'ch'; running 6 statement"));
    query("DROP TABLE kinds_sql_t");
}

TEST_CASE("clickhouse sql: parameters are spliced as literals, never as SQL",
          "[etl][sql][clickhouse]") {
    auto spliced = connectors::splice_clickhouse_params(
        "SELECT ?, '?', `a?`, ? -- ?\n/* ? */",
        {std::string("x'); DROP TABLE t; --\\"), std::nullopt});
    REQUIRE(spliced.has_value());
    CHECK(*spliced == "SELECT 'x\\'); DROP TABLE t; --\\\\', '?', `a?`, NULL -- ?\n/* ? */");
    CHECK_FALSE(connectors::splice_clickhouse_params("SELECT ?", {}).has_value());
    CHECK_FALSE(connectors::splice_clickhouse_params("SELECT 1", {std::string("x")}).has_value());
    // A bare '?' (the ternary operator) is refused in scripts: it would read as a parameter.
    // Validation refuses it in the config (tests/e2e/validate_hints_test.cpp); a sql file is
    // read when the task runs, and refused then.
    test::attempt_fixture f("connections:\n  ch: {type: clickhouse, url: \"" + clickhouse_url() +
                            "\"}\njobs:\n  j:\n    tasks:\n      t: {type: sql, connection: ch, "
                            "file: ternary.sql}\n");
    std::ofstream(f.base_dir() / "ternary.sql") << "SELECT 1 ? 2 : 3;\n";
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message, Catch::Contains("if(cond, a, b)"));
}

TEST_CASE("clickhouse sql: a syntax error fails permanently with the server's message",
          "[etl][sql][clickhouse]") {
    test::attempt_fixture f(sql_yaml("SELECT 1;\nSELEC 2;"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message, Catch::Contains("statement 2 of 2 (line 2)") &&
                                    Catch::Contains("ClickHouse error 62") &&
                                    Catch::Contains("Syntax error"));
}

TEST_CASE("clickhouse sql: exceeding the memory limit fails permanently",
          "[etl][sql][clickhouse]") {
    test::attempt_fixture f(sql_yaml("SELECT length(groupArray(number)) FROM numbers(50000000);",
                                     "&max_memory_usage=10000000"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message, Catch::Contains("ClickHouse error 241"));
}

TEST_CASE("clickhouse sql: a timeout kills the query on the server", "[etl][sql][clickhouse]") {
    const std::string running =
        "SELECT count() FROM system.processes WHERE query LIKE '%kinds-endless-marker%' "
        "AND query NOT LIKE '%system.processes%'";
    REQUIRE(query(running) == "0");
    test::attempt_fixture f(
        sql_yaml("SELECT count() FROM system.numbers\n"
                 "  WHERE NOT ignore(concat(toString(number), 'kinds-endless-marker'));"));
    f.context().deadline = std::chrono::system_clock::now() + 1500ms;
    etl::sql_task runner;
    bool seen_running = false;
    std::thread watcher([&] {
        for (int i = 0; i < 100 && !seen_running; ++i) {
            seen_running = query(running) == "1";
            std::this_thread::sleep_for(10ms);
        }
    });
    const auto outcome = f.run(runner);
    watcher.join();
    INFO(outcome.message);
    CHECK(seen_running);  // it did run on the server, so its absence below means something
    CHECK(outcome.result == status::timed_out);
    CHECK_THAT(outcome.message, Catch::Contains("canceled on the server"));
    CHECK(f.elapsed() < 10s);
    std::string left = "1";
    for (int i = 0; i < 200 && left != "0"; ++i) {
        left = query(running);
        std::this_thread::sleep_for(10ms);
    }
    CHECK(left == "0");
}

// `outputs` read the last statement's row through query(): names and values from the
// TabSeparatedWithNames text the server sends, escapes undone, \N as "".
TEST_CASE("clickhouse sql: outputs come from the last statement's single row",
          "[etl][sql][clickhouse][outputs]") {
    std::string yaml =
        sql_yaml("SELECT toUInt64(:param_name) + 1 AS next, 'a\\tb\\\\c' AS text, NULL AS z");
    yaml.insert(yaml.find("        sql: |"), "        outputs: [next, text, z]\n");
    test::attempt_fixture f(yaml);
    f.context().params = {{"name", "41"}};
    etl::sql_task runner;
    auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(outcome.outputs == std::vector<std::pair<std::string, std::string>>{
                                 {"next", "42"}, {"text", "a\tb\\c"}, {"z", ""}});

    std::string many = sql_yaml(
        "SELECT number AS next, 'x' AS text, 1 AS z FROM system.numbers "
        "LIMIT 3");
    many.insert(many.find("        sql: |"), "        outputs: [next, text, z]\n");
    test::attempt_fixture g(many);
    outcome = g.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message, Catch::Contains("returned more than 2 rows"));
}
