#include "etl/sql_task.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/connection>
#include <pqxx/transaction>

#include "tests/component/etl/attempt_fixture.hpp"
#include "tests/component/etl/sql_probe.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using status = scheduler::task_outcome::status;

namespace {

// One database engine under test.
struct engine {
    std::string connection;  // the connection's YAML flow mapping
    std::function<std::vector<test::row>(const test::attempt_fixture&, const std::string&)> rows;
    std::string endless;  // a statement that runs until canceled
    std::string refused;  // a connection that cannot connect, "" when not applicable
    std::string secret;   // the password in `connection`, "" when none
};

engine sqlite_engine() {
    return {"{type: sqlite, url: \"sqlite://test.db\"}",
            [](const test::attempt_fixture& f, const std::string& q) {
                return test::sqlite_rows(f.base_dir() / "test.db", q);
            },
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT count(*) FROM c",
            "", ""};
}

engine postgres_engine() {
    const std::string url = test::required_env("SLUICE_TEST_PG_URL");
    return {"{type: postgres, url: \"" + url + "\"}",
            [url](const test::attempt_fixture&, const std::string& q) {
                return test::postgres_rows(url, q);
            },
            "SELECT pg_sleep(60)",
            "{type: postgres, url: \"postgresql://sluice:pw-xyzzy@127.0.0.1:1/sluice_test\"}", ""};
}

engine mysql_engine() {
    const std::string url = test::required_env("SLUICE_TEST_MYSQL_URL");
    return {"{type: mysql, url: \"" + url + "\"}",
            [url](const test::attempt_fixture&, const std::string& q) {
                return test::mysql_rows(url, q);
            },
            "SELECT SLEEP(60)",
            "{type: mysql, url: \"mysql://sluice:pw-xyzzy@127.0.0.1:1/sluice_test\"}",
            "sluice-test-pw"};
}

std::string sql_yaml(const std::string& connection, const std::string& script,
                     const std::string& more = "") {
    std::string out = "connections:\n  db: " + connection +
                      "\njobs:\n  j:\n    params: {batch_size: {}}\n    tasks:\n      t:\n"
                      "        type: sql\n        connection: db\n" +
                      more;
    if (!script.empty()) {
        out += "        sql: |\n";
        std::istringstream lines(script);
        for (std::string line; std::getline(lines, line);) {
            out += "          " + line + "\n";
        }
    }
    return out;
}

void check_round_trip(const engine& e) {
    const std::string table = test::unique_table("sluice_bind");
    test::attempt_fixture f(sql_yaml(
        e.connection,
        "CREATE TABLE " + table +
            " (job TEXT, task TEXT, run_id TEXT, try TEXT, lt TEXT,\n"
            "  dis TEXT, die TEXT, p TEXT, v TEXT, c TEXT);\n"
            "-- a comment with :not_a_param; and a quote '\n"
            "INSERT INTO " +
            table +
            " VALUES (:job, :task, :run_id, :try_number, :logical_time,\n"
            "  :data_interval_start, :data_interval_end, :param_batch_size, :var_api_key,\n"
            "  ':kept; as text');"));
    auto& ctx = f.context();
    ctx.try_number = 2;
    ctx.logical_time = std::chrono::sys_seconds{std::chrono::sys_days{2026y / 3 / 29}} + 1h;
    ctx.data_interval_end = ctx.logical_time;
    ctx.params = {{"batch-size", "500"}};
    ctx.variables = {{"api.key", "x'); DROP TABLE " + table + "; --"}};
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    const auto rows =
        e.rows(f, "SELECT job, task, run_id, try, lt, dis, die, p, v, c FROM " + table);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0] == test::row{"j", "t", "42", "2", "2026-03-29T01:00:00Z", std::nullopt,
                               "2026-03-29T01:00:00Z", "500", "x'); DROP TABLE " + table + "; --",
                               ":kept; as text"});
    const auto system = f.texts(scheduler::output_line::stream::system);
    REQUIRE(system.size() == 3);
    CHECK_THAT(system[2], Catch::Contains("statement 2 of 2 (line 4) done"));
}

void check_permanent(const engine& e, const std::string& script, const std::string& expected) {
    test::attempt_fixture f(sql_yaml(e.connection, script));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message, Catch::Contains(expected));
}

// Validation refuses an unknown name written in the config (tests/e2e/validate_hints_test.cpp);
// a sql file is read when the task runs, so the runner checks every name again first.
void check_unknown_parameter_runs_nothing(const engine& e) {
    const std::string table = test::unique_table("sluice_unknown");
    test::attempt_fixture f(sql_yaml(e.connection, "", "        file: later.sql\n"));
    std::ofstream(f.base_dir() / "later.sql")
        << "CREATE TABLE " << table << " (a TEXT);\nSELECT :logical_tim;\n";
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message,
               Catch::Contains("':logical_tim'") && Catch::Contains(":logical_time"));
    CHECK(f.texts(scheduler::output_line::stream::system).empty());
}

void check_deadline_cancels(const engine& e) {
    test::attempt_fixture f(sql_yaml(e.connection, "SELECT 1;\n" + e.endless + ";\nSELECT 2;"));
    f.context().deadline = std::chrono::system_clock::now() + 500ms;
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::timed_out);
    CHECK_THAT(outcome.message, Catch::Contains("statement 2 of 3"));
    CHECK(f.elapsed() >= 450ms);
    CHECK(f.elapsed() < 10s);
}

void check_stop_cancels(const engine& e) {
    test::attempt_fixture f(sql_yaml(e.connection, e.endless + ";"));
    std::thread canceler([&] {
        std::this_thread::sleep_for(300ms);
        f.stop().request(scheduler::stop_signal::reason::canceled);
    });
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    canceler.join();
    INFO(outcome.message);
    CHECK(outcome.result == status::canceled);
    CHECK(f.elapsed() < 10s);
}

void check_refused_is_transient(const engine& e) {
    test::attempt_fixture f(sql_yaml(e.refused, "SELECT 1;"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    CHECK_THAT(outcome.message, Catch::Contains("connection 'db'") && !Catch::Contains("pw-xyzzy"));
}

void check_file_relative_to_config(const engine& e) {
    const std::string table = test::unique_table("sluice_file");
    test::attempt_fixture f(sql_yaml(e.connection, "", "        file: sql/load.sql\n"));
    std::filesystem::create_directories(f.base_dir() / "sql");
    std::ofstream(f.base_dir() / "sql/load.sql")
        << "CREATE TABLE " << table << " (a TEXT);\nINSERT INTO " << table << " VALUES (:task);\n";
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(e.rows(f, "SELECT a FROM " + table) == std::vector<test::row>{{"t"}});
}

// `outputs`: the last statement's single row, read through the engine's own driver; the
// upstream outputs the task received are bound as :output_<task>_<name>
// (docs/task-kinds.md#values-between-tasks).
void check_outputs(const engine& e, bool with_params = true) {
    const std::string table = test::unique_table("sluice_outputs");
    const std::string upstream = "      extract: {type: shell, command: \"true\"}\n";
    const std::string create = "CREATE TABLE " + table + " (n INTEGER, p VARCHAR(40));\n";
    const std::string insert =
        with_params ? "INSERT INTO " + table + " VALUES (1, :output_extract_id), (2, 'b');\n"
                    : "INSERT INTO " + table + " VALUES (1, '7'), (2, 'b');\n";
    const std::string outputs = "        depends_on: extract\n        outputs: [total, Path, z]\n";
    test::attempt_fixture f(
        sql_yaml(e.connection,
                 create + insert + "SELECT count(*) AS total, min(p) AS path, NULL AS z FROM " +
                     table + (with_params ? " WHERE p <> :task;" : ";"),
                 outputs) +
        upstream);
    f.context().upstream_outputs = {{"extract", {{"id", "7"}}}};
    etl::sql_task runner;
    auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(outcome.outputs == std::vector<std::pair<std::string, std::string>>{
                                 {"total", "2"}, {"Path", "7"}, {"z", ""}});

    // Anything but exactly one row with every listed column fails at once.
    const auto fails = [&](const std::string& last, const std::string& expected) {
        // A fresh fixture is a fresh SQLite file: the table is made again where it is missing.
        test::attempt_fixture g(sql_yaml(e.connection,
                                         "CREATE TABLE IF NOT EXISTS " + table +
                                             " (n INTEGER, p VARCHAR(40));\n" + "INSERT INTO " +
                                             table + " VALUES (1, '7'), (2, 'b');\n" + last,
                                         outputs) +
                                upstream);
        const auto o = g.run(runner);
        INFO(last << ": " << o.message);
        CHECK(o.result == status::failed);
        CHECK(o.error_class == core::error_class::permanent);
        CHECK_THAT(o.message, Catch::Contains(expected));
        CHECK(o.outputs.empty());
    };
    fails("SELECT n AS total, p AS path, n AS z FROM " + table + " WHERE n > 5;",
          "returned 0 rows; the task's 'outputs' are read from exactly one row");
    fails("SELECT n AS total, p AS path, n AS z FROM " + table + ";",
          "rows; the task's 'outputs' are read from exactly one row");
    fails("SELECT count(*) AS total, min(p) AS path FROM " + table + ";",
          "has no column 'z' (listed in 'outputs'); its columns: total, path");
    fails("DELETE FROM " + table + " WHERE n > 5;", "returned no rows");
}

}  // namespace

TEST_CASE("sql on sqlite: outputs come from the last statement's single row",
          "[etl][sql][sqlite][outputs]") {
    check_outputs(sqlite_engine());
}

TEST_CASE("sql on postgres: outputs come from the last statement's single row",
          "[etl][sql][postgres][outputs]") {
    check_outputs(postgres_engine());
}

TEST_CASE("sql on mysql: outputs come from the last statement's single row",
          "[etl][sql][mysql][outputs]") {
    check_outputs(mysql_engine());
    check_outputs(mysql_engine(), false);  // the text protocol (nothing bound)
}

TEST_CASE("sql on sqlite: bind parameters round-trip as values", "[etl][sql][sqlite]") {
    check_round_trip(sqlite_engine());
}

TEST_CASE("sql on sqlite: syntax errors and missing tables are permanent", "[etl][sql][sqlite]") {
    check_permanent(sqlite_engine(), "SELECT 1;\nSELEC 2;", "statement 2 of 2 (line 2)");
    check_permanent(sqlite_engine(), "SELECT * FROM no_such_table;", "no_such_table");
}

TEST_CASE("sql on sqlite: an unknown bind parameter fails before anything runs",
          "[etl][sql][sqlite]") {
    check_unknown_parameter_runs_nothing(sqlite_engine());
}

TEST_CASE("sql on sqlite: the deadline interrupts a running statement", "[etl][sql][sqlite]") {
    check_deadline_cancels(sqlite_engine());
}

TEST_CASE("sql on sqlite: cancel interrupts a running statement", "[etl][sql][sqlite]") {
    check_stop_cancels(sqlite_engine());
}

TEST_CASE("sql on sqlite: the sql file is read relative to the config", "[etl][sql][sqlite]") {
    check_file_relative_to_config(sqlite_engine());
}

TEST_CASE("sql: a missing sql file is a permanent failure", "[etl][sql]") {
    test::attempt_fixture f(sql_yaml(sqlite_engine().connection, "", "        file: nope.sql\n"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message, Catch::Contains("nope.sql"));
}

TEST_CASE("sql on postgres: bind parameters round-trip as values", "[etl][sql][postgres]") {
    check_round_trip(postgres_engine());
}

TEST_CASE("sql on postgres: syntax errors, denied access and missing objects are permanent",
          "[etl][sql][postgres]") {
    const auto e = postgres_engine();
    check_permanent(e, "SELECT 1;\nSELEC 2;", "42601");
    check_permanent(e, "SELECT * FROM no_such_table;", "42P01");
    check_permanent(e, "SELECT no_such_column FROM pg_class;", "42703");
    check_permanent(e,
                    "SET ROLE pg_signal_backend;\nCREATE TABLE denied_here (a int);\n"
                    "RESET ROLE;",
                    "42501");
}

TEST_CASE("sql on postgres: casts, dollar quotes and functions work with parameters",
          "[etl][sql][postgres]") {
    const auto e = postgres_engine();
    const std::string table = test::unique_table("sluice_pg");
    const std::string fn = test::unique_table("sluice_fn");
    test::attempt_fixture f(
        sql_yaml(e.connection, "CREATE TABLE " + table +
                                   " (at timestamptz, n int);\n"
                                   "CREATE FUNCTION " +
                                   fn +
                                   "(x int) RETURNS int AS $body$\n"
                                   "BEGIN RETURN x * 2; END; $body$ LANGUAGE plpgsql;\n"
                                   "INSERT INTO " +
                                   table + " SELECT :logical_time::timestamptz, " + fn +
                                   "(:try_number::int);"));
    f.context().logical_time = std::chrono::sys_seconds{std::chrono::sys_days{2026y / 1 / 2}};
    f.context().try_number = 21;
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(e.rows(f, "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), n FROM " +
                        table) == std::vector<test::row>{{"2026-01-02 00:00", "42"}});
}

TEST_CASE("sql on postgres: a failed script rolls back its open transaction",
          "[etl][sql][postgres]") {
    const auto e = postgres_engine();
    const std::string table = test::unique_table("sluice_tx");
    test::attempt_fixture setup(sql_yaml(e.connection, "CREATE TABLE " + table + " (a int);"));
    etl::sql_task runner;
    REQUIRE(setup.run(runner).result == status::success);
    test::attempt_fixture f(sql_yaml(
        e.connection, "BEGIN;\nINSERT INTO " + table + " VALUES (1);\nSELECT 1/0;\nCOMMIT;"));
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK(e.rows(f, "SELECT count(*) FROM " + table) == std::vector<test::row>{{"0"}});
}

TEST_CASE("sql on postgres: a server statement timeout is transient", "[etl][sql][postgres]") {
    test::attempt_fixture f(sql_yaml(postgres_engine().connection,
                                     "SET statement_timeout = '100ms';\nSELECT pg_sleep(5);"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    CHECK_THAT(outcome.message, Catch::Contains("57014"));
}

TEST_CASE("sql on postgres: an unknown bind parameter fails before anything runs",
          "[etl][sql][postgres]") {
    check_unknown_parameter_runs_nothing(postgres_engine());
}

TEST_CASE("sql on postgres: the deadline cancels pg_sleep on the server", "[etl][sql][postgres]") {
    check_deadline_cancels(postgres_engine());
}

TEST_CASE("sql on postgres: cancel stops a running statement", "[etl][sql][postgres]") {
    check_stop_cancels(postgres_engine());
}

TEST_CASE("sql on postgres: connection refused is transient and hides the password",
          "[etl][sql][postgres]") {
    check_refused_is_transient(postgres_engine());
}

TEST_CASE("sql on mysql: bind parameters round-trip as values", "[etl][sql][mysql]") {
    check_round_trip(mysql_engine());
}

TEST_CASE("sql on mysql: syntax errors and missing tables are permanent", "[etl][sql][mysql]") {
    const auto e = mysql_engine();
    check_permanent(e, "SELECT 1;\nSELEC 2;", "MySQL error 1064");
    check_permanent(e, "SELECT * FROM no_such_table;", "MySQL error 1146");
    check_permanent(e, "SELECT * FROM no_such_table WHERE a = :job;", "MySQL error 1146");
    check_permanent(e, "CREATE DATABASE sluice_denied;", "MySQL error 1044");
}

TEST_CASE("sql on mysql: an unknown bind parameter fails before anything runs",
          "[etl][sql][mysql]") {
    check_unknown_parameter_runs_nothing(mysql_engine());
}

TEST_CASE("sql on mysql: a server statement timeout is transient", "[etl][sql][mysql]") {
    test::attempt_fixture f(
        sql_yaml(mysql_engine().connection,
                 "SET SESSION max_statement_time = 0.1;\nSELECT * FROM information_schema.tables "
                 "t1, information_schema.tables t2, information_schema.tables t3;"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    CHECK_THAT(outcome.message, Catch::Contains("1969"));
}

TEST_CASE("sql on mysql: the deadline kills SLEEP on the server", "[etl][sql][mysql]") {
    check_deadline_cancels(mysql_engine());
}

TEST_CASE("sql on mysql: cancel stops a running statement", "[etl][sql][mysql]") {
    check_stop_cancels(mysql_engine());
}

TEST_CASE("sql on mysql: connection refused is transient and hides the password",
          "[etl][sql][mysql]") {
    check_refused_is_transient(mysql_engine());
}

TEST_CASE("sql on mysql: refused credentials are permanent and hide the password",
          "[etl][sql][mysql]") {
    const std::string url = test::required_env("SLUICE_TEST_MYSQL_URL");
    const auto at = url.find('@');
    const std::string bad = "mysql://sluice:wrong-pw-xyzzy" + url.substr(at);
    test::attempt_fixture f(sql_yaml("{type: mysql, url: \"" + bad + "\"}", "SELECT 1;"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK_THAT(outcome.message, Catch::Contains("1045") && !Catch::Contains("wrong-pw-xyzzy"));
}

TEST_CASE("sql on postgres: a lock timeout is transient", "[etl][sql][postgres]") {
    const std::string url = test::required_env("SLUICE_TEST_PG_URL");
    const std::string table = test::unique_table("sluice_lock");
    test::postgres_rows(url, "CREATE TABLE " + table + " (a int)");
    pqxx::connection holder(url);
    pqxx::work lock(holder);
    lock.exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
    test::attempt_fixture f(sql_yaml(postgres_engine().connection,
                                     "SET lock_timeout = '100ms';\nSELECT * FROM " + table + ";"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    CHECK_THAT(outcome.message, Catch::Contains("55P03"));
}

TEST_CASE("sql on mysql: a lock wait timeout is transient", "[etl][sql][mysql]") {
    const std::string url = test::required_env("SLUICE_TEST_MYSQL_URL");
    const std::string table = test::unique_table("sluice_lock");
    test::mysql_rows(url, "CREATE TABLE " + table + " (a INT PRIMARY KEY) ENGINE=InnoDB");
    test::mysql_rows(url, "INSERT INTO " + table + " VALUES (1)");
    test::mysql_lock holder(url, "SELECT * FROM " + table + " WHERE a = 1 FOR UPDATE");
    test::attempt_fixture f(
        sql_yaml(mysql_engine().connection, "SET SESSION innodb_lock_wait_timeout = 1;\nUPDATE " +
                                                table + " SET a = 2 WHERE a = :try_number;"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    CHECK_THAT(outcome.message, Catch::Contains("1205"));
}

TEST_CASE("sql on postgres: server notices go to the task log", "[etl][sql][postgres]") {
    test::attempt_fixture f(
        sql_yaml(postgres_engine().connection, "DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$;"));
    etl::sql_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    const auto system = f.texts(scheduler::output_line::stream::system);
    CHECK(std::count(system.begin(), system.end(), "server: NOTICE:  hello 42") == 1);
}
