// End-to-end: what `sluice validate` tells a new user beyond the syntax: SQL parameters a task
// does not receive, found by the runtime's own lexer, at their line and column.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "process.hpp"

using Catch::Matchers::Contains;
using sluice::test::lines;
using sluice::test::run_sluice;

namespace {

// A config file in a directory of its own, removed at the end.
struct config_file {
    std::filesystem::path dir;
    std::filesystem::path path;
    explicit config_file(const std::string& yaml,
                         const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        char tmpl[] = "/tmp/sluice-validate-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        path = dir / "sluice.yaml";
        std::ofstream(path) << yaml;
        for (const auto& [name, text] : extra) {
            std::ofstream(dir / name) << text;
        }
    }
    ~config_file() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

}  // namespace

TEST_CASE("validate reports SQL parameters a task does not receive at their line and column",
          "[cli][validate][sql]") {
    // Casts, strings, comments, dollar quoting, ':=' and variables are not mistaken for
    // parameters; :logical_tme, :param_dya and :ran_id are, in a sql task, a copy query and a
    // .sql file.
    config_file f(R"(connections:
  pg: {type: postgres, url: "postgresql://etl@127.0.0.1:5432/shop"}
  my: {type: mysql, url: "mysql://etl@127.0.0.1:3306/shop"}
  lite: {type: sqlite, url: "sqlite://var/w.db"}
jobs:
  load:
    params:
      day: {type: date, default: "2026-01-01"}
    tasks:
      clean:
        type: sql
        connection: pg
        sql: |
          -- :not_a_param in a comment; /* nor :this */
          DELETE FROM t WHERE ts < :logical_tme::timestamptz AND s <> ':nope';
          SELECT $body$ :inside $body$, now()::date, :PARAM_DAY, :var_anything;
          INSERT INTO t VALUES (:param_day, :data_interval_end, :job, :task, :run_id, :try_number);
      tally:
        type: sql
        connection: my
        sql: "SET @n := 1; SELECT :data_interval_start, '\\':x', :param_dya"
      copy:
        type: copy
        source:
          connection: pg
          query: "SELECT * FROM o WHERE d = :param_dya AND e = 'a:b'"
        sink: {connection: lite, table: o, mode: append}
      from-file:
        type: sql
        connection: pg
        file: clean.sql
)",
                  {{"clean.sql", "SELECT 1;\nDELETE FROM t\n  WHERE id = :ran_id;\n"}});
    const std::string file = f.path.string();
    auto r = run_sluice({"validate", "-c", file});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err) ==
          std::vector<std::string>{
              file + ":15:36: error: unknown SQL parameter ':logical_tme' in task 'clean'; did "
                     "you mean ':logical_time'?",
              file + ":21:66: error: unknown SQL parameter ':param_dya' in task 'tally'; did you "
                     "mean ':param_day'?",
              file + ":26:45: error: unknown SQL parameter ':param_dya' in the source query of "
                     "task 'copy'; did you mean ':param_day'?",
              file + ":31:15: error: " + (f.dir / "clean.sql").string() +
                  ":3:14: unknown SQL parameter ':ran_id' in task 'from-file'; did you mean "
                  "':run_id'?",
              "4 errors in " + file,
          });
}

TEST_CASE("validate refuses a SQL script the runtime cannot read", "[cli][validate][sql]") {
    config_file f(R"(connections:
  ch: {type: clickhouse, url: "http://127.0.0.1:8123/?database=default"}
  lite: {type: sqlite, url: "sqlite://var/w.db"}
jobs:
  j:
    tasks:
      ternary:
        type: sql
        connection: ch
        sql: "SELECT x ? 1 : 2"
      open:
        type: sql
        connection: lite
        sql: "SELECT 'unterminated"
      unknown:
        type: sql
        connection: lite
        sql: "SELECT :zzzzzz"
)");
    const std::string file = f.path.string();
    auto r = run_sluice({"validate", "-c", file});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    const auto err = lines(r.err);
    REQUIRE(err.size() == 4);
    CHECK_THAT(err[0], Contains(file + ":10:14: error: the SQL of task 'ternary': '?' at line 1"));
    CHECK(err[1] == file +
                        ":14:14: error: the SQL of task 'open': unterminated string starting at "
                        "line 1 of the SQL script");
    CHECK(err[2] == file +
                        ":18:22: error: unknown SQL parameter ':zzzzzz' in task 'unknown'; the "
                        "task receives :job, :task, :run_id, :try_number, :logical_time, "
                        ":data_interval_start, :data_interval_end and :var_<key>");
}
