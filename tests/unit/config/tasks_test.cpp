#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;
using namespace std::chrono_literals;

namespace {

// Line 1-10 hold the connections and pools; the job's tasks start on line 14.
const std::string prelude = R"(pools: {bulk: 2}
connections:
  pg: {type: postgresql, url: "postgresql://etl@db/app"}
  my: {type: mysql, url: "mysql://etl@db/app"}
  ch: {type: clickhouse, url: "http://ch:8123/?database=dw"}
  lite: {type: sqlite, url: "sqlite://var/w.db"}
  files: {type: file, url: "file://exports", format: csv}
  api: {type: http, url: "https://api.example.com", headers: {Accept: application/json}}
defaults:
  timezone: UTC
jobs:
  j:
    tasks:
)";

std::string tasks(const std::string& body) {
    return prelude + body;
}

}  // namespace

TEST_CASE("config: connections are parsed with their type-specific fields", "[config][tasks]") {
    const auto& cfg = require_config(
        load_string(tasks("      t: {type: noop}\n"), "/srv/sluice/sluice.yaml", make_options()));
    REQUIRE(cfg.connections.size() == 6);
    CHECK(cfg.connections.at("pg").type == connection_type::postgres);
    CHECK(cfg.connections.at("lite").local_path == "/srv/sluice/var/w.db");
    CHECK(cfg.connections.at("files").local_path == "/srv/sluice/exports");
    CHECK(cfg.connections.at("files").format == file_format::csv);
    CHECK(cfg.connections.at("api").headers ==
          std::vector<std::pair<std::string, std::string>>{{"Accept", "application/json"}});
    CHECK(cfg.pools.at("bulk") == 2);
}

TEST_CASE("config: connection urls must match the connection type", "[config][tasks]") {
    CHECK(only_error("connections:\n  pg: {type: postgres, url: \"mysql://u:hunter2@h/db\"}\n") ==
          "test.yaml:2:29: error: the url of postgres connection 'pg' must start with "
          "postgresql://, postgres://, got 'mysql://u:***@h/db'");
    CHECK(only_error("connections:\n  f: {type: file, headers: {a: b}, url: \"file://x\"}\n") ==
          "test.yaml:2:19: error: key 'headers' does not apply to file connections (only to "
          "http connections)");
    CHECK(only_error("connections:\n  c: {url: \"http://x\"}\n") ==
          "test.yaml:2:3: error: missing required key 'type' in connection 'c'");
}

TEST_CASE("config: task type is required and keys of other types are named", "[config][tasks]") {
    CHECK(only_error(tasks("      t: {command: ls}\n")) ==
          "test.yaml:14:7: error: missing required key 'type' in task 't' of job 'j'");
    CHECK(only_error(tasks("      t: {type: bash, command: ls}\n")) ==
          "test.yaml:14:17: error: invalid value 'bash' for 'type': expected one of noop, shell, "
          "sql, copy, http, trigger_job");
    CHECK(only_error(tasks("      t: {type: noop, command: ls}\n")) ==
          "test.yaml:14:23: error: key 'command' does not apply to noop tasks (it belongs to "
          "shell tasks)");
    CHECK(only_error(tasks("      t: {type: noop, dependson: [x]}\n")) ==
          "test.yaml:14:23: error: unknown key 'dependson' in task 't' of job 'j'; did you mean "
          "'depends_on'?");
}

TEST_CASE("config: unknown pools and connections are reported with what exists",
          "[config][tasks]") {
    CHECK(only_error(tasks("      t: {type: noop, pool: bluk}\n")) ==
          "test.yaml:14:29: error: unknown pool 'bluk'; did you mean 'bulk'?");
    CHECK(only_error(tasks("      t: {type: noop, pool: other}\n")) ==
          "test.yaml:14:29: error: unknown pool 'other'; defined pools: bulk");
    CHECK(only_error(tasks("      t: {type: sql, connection: warehouse, sql: \"select 1\"}\n")) ==
          "test.yaml:14:34: error: unknown connection 'warehouse'; defined connections: pg, my, "
          "ch, lite, files, api");
    CHECK(only_error("jobs:\n  j:\n    tasks: {t: {type: noop, pool: p}}\n") ==
          "test.yaml:3:35: error: unknown pool 'p'; no pools are defined (add it under 'pools:' "
          "with its number of slots)");
}

TEST_CASE("config: shell tasks need command or argv, not both", "[config][tasks]") {
    const auto& cfg = require_config(load_string(
        tasks("      a: {type: shell, command: \"echo hi\", env: {A: \"1\"}, cwd: work, "
              "kill_grace: 3s, retry_on_exit_codes: [75, 111]}\n"
              "      b: {type: shell, argv: [ls, \"-l\", \"\"], retry_on_exit_codes: 1}\n"),
        "/srv/s.yaml", make_options()));
    const auto& a = std::get<shell_spec>(cfg.jobs[0].tasks[0].kind);
    CHECK(a.command == "echo hi");
    CHECK(a.env == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
    CHECK(a.cwd == std::filesystem::path("/srv/work"));
    CHECK(a.kill_grace == 3s);
    CHECK(a.retry_on_exit_codes == std::vector<int>{75, 111});
    const auto& b = std::get<shell_spec>(cfg.jobs[0].tasks[1].kind);
    CHECK(b.argv == std::vector<std::string>{"ls", "-l", ""});
    CHECK(b.retry_on_exit_codes == std::vector<int>{1});

    CHECK(only_error(tasks("      t: {type: shell}\n")) ==
          "test.yaml:14:7: error: shell task 't' needs 'command' (run by /bin/sh -c) or 'argv' "
          "(run directly)");
    CHECK(only_error(tasks("      t: {type: shell, command: ls, argv: [ls]}\n")) ==
          "test.yaml:14:37: error: use either 'command' (run by /bin/sh -c) or 'argv', not both");
    CHECK(only_error(tasks("      t: {type: shell, argv: []}\n")) ==
          "test.yaml:14:30: error: 'argv' needs at least the program to run");
    CHECK(only_error(tasks("      t: {type: shell, command: ls, env: {SLUICE_X: \"1\"}}\n")) ==
          "test.yaml:14:43: error: environment variables starting with SLUICE_ are set by Sluice "
          "itself; choose another name than 'SLUICE_X'");
    CHECK(only_error(tasks("      t: {type: shell, command: ls, retry_on_exit_codes: [0]}\n")) ==
          "test.yaml:14:59: error: 'retry_on_exit_codes' must be between 1 and 255, got 0");
}

TEST_CASE("config: sql tasks need a database connection and sql or file", "[config][tasks]") {
    const auto& cfg = require_config(
        load_string(tasks("      a: {type: sql, connection: lite, sql: \"delete from t\"}\n"
                          "      b: {type: sql, connection: ch, file: sql/views.sql}\n"),
                    "/srv/s.yaml", make_options()));
    const auto& b = std::get<sql_spec>(cfg.jobs[0].tasks[1].kind);
    CHECK(b.connection == "ch");
    CHECK(b.file == std::filesystem::path("/srv/sql/views.sql"));
    CHECK(only_error(tasks("      t: {type: sql, connection: files, sql: \"select 1\"}\n")) ==
          "test.yaml:14:34: error: sql tasks run on database connections (postgres, mysql, "
          "clickhouse, sqlite), but 'files' is a file connection");
    CHECK(only_error(tasks("      t: {type: sql, connection: pg}\n")) ==
          "test.yaml:14:7: error: sql task 't' needs 'sql' (the statements) or 'file' (a .sql "
          "file)");
    CHECK(only_error(tasks("      t: {type: sql, connection: pg, sql: x, file: y}\n")) ==
          "test.yaml:14:46: error: use either 'sql' or 'file', not both");
    CHECK(only_error(tasks("      t: {type: sql, sql: x}\n")) ==
          "test.yaml:14:7: error: missing required key 'connection' in task 't' of job 'j'");
}

TEST_CASE("config: copy tasks: a full incremental spec", "[config][tasks]") {
    const auto& cfg = require_config(load_yaml(tasks(R"yaml(      load:
        type: copy
        source:
          connection: my
          table: documents
          cursor: [updated_at, id]
          lookback: 5m
          columns: {id: id, amount: "CAST(amount AS DECIMAL(12,2))"}
        sink: {connection: ch, table: documents, mode: upsert, key: [id], version_column: v}
        batch_rows: 50000
        sleep_between_batches: 250ms
        max_batches_per_run: 10
        create_table: if_missing
)yaml")));
    const auto& c = std::get<copy_spec>(cfg.jobs[0].tasks[0].kind);
    CHECK(c.source.connection == "my");
    CHECK(c.source.table == "documents");
    CHECK(c.source.cursor == std::vector<std::string>{"updated_at", "id"});
    CHECK(c.source.lookback == 5min);
    REQUIRE(c.source.columns.size() == 2);
    CHECK(c.source.columns[1].name == "amount");
    CHECK(c.source.columns[1].expression == "CAST(amount AS DECIMAL(12,2))");
    CHECK(c.sink.mode == sink_mode::upsert);
    CHECK(c.sink.key == std::vector<std::string>{"id"});
    CHECK(c.sink.version_column == "v");
    CHECK(c.batch_rows == 50000);
    CHECK(c.sleep_between_batches == 250ms);
    CHECK(c.max_batches_per_run == 10);
    CHECK(c.create_table == create_table_policy::if_missing);
}

TEST_CASE("config: copy tasks: change events for upsert and scd2 sinks", "[config][tasks]") {
    const auto& cfg = require_config(load_yaml(tasks(R"yaml(      current:
        type: copy
        source: {connection: pg, table: events}
        sink: {connection: pg, table: customers, mode: upsert, key: id, sequence: lsn,
               operation: op}
      history:
        type: copy
        source: {connection: pg, table: events}
        sink: {connection: lite, table: customers_history, mode: scd2, key: [id], sequence: lsn,
               operation: op, tracked_columns: [name, city], valid_from: changed_at}
)yaml")));
    const auto& current = std::get<copy_spec>(cfg.jobs[0].tasks[0].kind);
    CHECK(current.sink.mode == sink_mode::upsert);
    CHECK(current.sink.sequence == "lsn");
    CHECK(current.sink.operation == "op");
    CHECK(!current.sink.valid_from);
    const auto& history = std::get<copy_spec>(cfg.jobs[0].tasks[1].kind);
    CHECK(history.sink.mode == sink_mode::scd2);
    CHECK(history.sink.tracked_columns == std::vector<std::string>{"name", "city"});
    CHECK(history.sink.valid_from == "changed_at");

    const auto r = load_yaml(tasks(R"(      a:
        type: copy
        source: {connection: pg, table: t}
        sink: {connection: pg, table: t, mode: upsert, key: id, valid_from: ts}
      b:
        type: copy
        source: {connection: pg, table: t}
        sink: {connection: pg, table: t, mode: replace, operation: op}
)"));
    CHECK(formatted(r) ==
          std::vector<std::string>{
              "test.yaml:17:65: error: 'valid_from' applies only to mode: scd2 (this sink uses "
              "upsert)",
              "test.yaml:21:57: error: 'operation' applies only to mode: upsert or scd2 (this "
              "sink uses replace)",
          });
}

TEST_CASE("config: copy tasks: source and sink rules", "[config][tasks]") {
    const auto r = load_yaml(tasks(R"(      a:
        type: copy
        source: {connection: pg}
        sink: {connection: api, table: t}
      b:
        type: copy
        source: {connection: files, table: t}
        sink: {connection: pg, mode: scd2, path: x.csv}
      c:
        type: copy
        source: {connection: pg, table: t, cursor: [id], lookback: 1m}
        sink: {connection: lite, table: t, mode: replace}
      d:
        type: copy
        source: {connection: pg, table: t, query: "select 1", lookback: 1m, records: data}
        sink: {connection: files, path: out.csv, mode: upsert, key: [id], version_column: v}
      e:
        type: copy
        source: {connection: pg, table: t, cursor: id, lookback: 1m}
        sink: {connection: lite, table: t, sequence: s}
      f:
        type: copy
)"));
    CHECK(formatted(r) ==
          std::vector<std::string>{
              "test.yaml:16:9: error: the source of task 'a' needs 'table' or 'query'",
              "test.yaml:17:28: error: an http connection cannot be a copy sink ('api'); sinks are "
              "postgres, mysql, clickhouse, sqlite or file connections",
              "test.yaml:20:9: error: the file source of task 'b' needs 'path' (relative to the "
              "connection's directory)",
              "test.yaml:20:37: error: 'table' does not apply to a file source; use 'path'",
              "test.yaml:21:9: error: mode scd2 needs 'key': the columns that identify a row",
              "test.yaml:21:9: error: mode scd2 needs 'sequence': the column that orders change "
              "events",
              "test.yaml:21:9: error: the sink of task 'b' needs 'table'",
              "test.yaml:21:44: error: 'path' applies only to file sinks; use 'table'",
              "test.yaml:24:44: error: a replace sink reloads the whole table on every run, so the "
              "source cannot be incremental; remove 'cursor' or use mode append or upsert",
              "test.yaml:28:44: error: use either 'table' or 'query' in a source, not both",
              "test.yaml:28:63: error: 'lookback' re-reads a window before the cursor's mark, so "
              "it needs a 'cursor'",
              "test.yaml:28:77: error: 'records' applies only to http sources",
              "test.yaml:29:56: error: a file sink supports mode append or replace, not upsert",
              "test.yaml:29:75: error: 'version_column' applies only to clickhouse sinks (the "
              "ReplacingMergeTree version)",
              "test.yaml:32:56: error: 'lookback' re-reads rows, which an append sink would load "
              "twice; use mode upsert (or scd2) with a key",
              "test.yaml:33:44: error: 'sequence' applies only to mode: upsert or scd2 (this "
              "sink uses append)",
              "test.yaml:34:7: error: missing required key 'source' in task 'f' of job 'j'",
              "test.yaml:34:7: error: missing required key 'sink' in task 'f' of job 'j'",
          });
}

TEST_CASE("config: http tasks: method, url, headers, JSON body, statuses", "[config][tasks]") {
    const auto& cfg = require_config(load_yaml(tasks(R"(      call:
        type: http
        method: post
        url: "https://hooks.example.com/x"
        headers: {Content-Type: application/json}
        body: {job: nightly, count: 3, ok: true, ratio: 0.5, none: null, quoted: "7", list: [a, 1]}
        expected_status: [200, 202]
      raw:
        type: http
        method: PUT
        url: "http://example.com/y"
        body: "plain text"
)")));
    const auto& call = std::get<http_spec>(cfg.jobs[0].tasks[0].kind);
    CHECK(call.method == "POST");
    CHECK(
        call.body ==
        R"({"job":"nightly","count":3,"ok":true,"ratio":0.5,"none":null,"quoted":"7","list":["a",1]})");
    CHECK(call.expected_status == std::vector<int>{200, 202});
    CHECK(std::get<http_spec>(cfg.jobs[0].tasks[1].kind).body == "plain text");
    CHECK(only_error(tasks("      t: {type: http, method: FETCH, url: \"http://x\"}\n")) ==
          "test.yaml:14:31: error: invalid value 'FETCH' for 'method': expected one of GET, POST, "
          "PUT, PATCH, DELETE, HEAD; did you mean 'PATCH'?");
    CHECK(only_error(tasks("      t: {type: http, url: \"ftp://x\"}\n")) ==
          "test.yaml:14:28: error: 'url' must start with http:// or https://, got 'ftp://x'");
    CHECK(only_error(tasks("      t: {type: http, url: \"http://x\", body: {a: 1}}\n")) ==
          "test.yaml:14:40: error: a GET request has no body; use method: POST, PUT or PATCH");
    CHECK(only_error(tasks("      t: {type: http, url: \"http://x\", expected_status: 700}\n")) ==
          "test.yaml:14:57: error: 'expected_status' must be between 100 and 599, got 700");
    CHECK(only_error(
              tasks("      t: {type: http, url: \"http://x\", headers: {\"Bad Name\": x}}\n")) ==
          "test.yaml:14:50: error: invalid HTTP header name 'Bad Name'");
}

TEST_CASE("config: copy tasks: file paths stay inside the connection's directory",
          "[config][tasks]") {
    const auto r = load_yaml(tasks(R"(      a:
        type: copy
        source: {connection: files, path: ../../etc/passwd}
        sink: {connection: files, path: /etc/cron.d/x.csv}
      b:
        type: copy
        source: {connection: files, path: "in/../../x.csv"}
        sink: {connection: files, path: "out/ok.csv"}
)"));
    CHECK(formatted(r) ==
          std::vector<std::string>{
              "test.yaml:16:43: error: this file path is refused: it holds a '..' component; "
              "paths stay inside the connection's directory",
              "test.yaml:17:41: error: this file path is refused: it is absolute; paths are "
              "relative to the connection's directory",
              "test.yaml:20:43: error: this file path is refused: it holds a '..' component; "
              "paths stay inside the connection's directory",
          });
    CHECK(sluice::config::file_path_problem("a/b..c/d.csv") == std::nullopt);
    CHECK(sluice::config::file_path_problem("x\ny.csv").has_value());
    CHECK(sluice::config::file_path_problem("").has_value());
}

TEST_CASE("config: max_interruptions and on_interrupt, with their defaults", "[config][tasks]") {
    const auto& cfg = require_config(
        load_string(tasks("      a: {type: noop}\n"
                          "      b: {type: noop, max_interruptions: 0, on_interrupt: fail}\n"
                          "      c: {type: noop, max_interruptions: 3, on_interrupt: retry}\n"),
                    "/srv/s.yaml", make_options()));
    const auto& t = cfg.jobs[0].tasks;
    CHECK(t[0].max_interruptions == 20);
    CHECK(t[0].on_interrupt == interrupt_action::retry);
    CHECK(t[1].max_interruptions == 0);
    CHECK(t[1].on_interrupt == interrupt_action::fail);
    CHECK(t[2].max_interruptions == 3);
    CHECK(t[2].on_interrupt == interrupt_action::retry);
    CHECK(to_string(interrupt_action::fail) == "fail");

    CHECK_THAT(only_error(tasks("      t: {type: noop, on_interrupt: never}\n")),
               Catch::StartsWith("test.yaml:14:37: error:") && Catch::Contains("retry") &&
                   Catch::Contains("fail"));
    CHECK_THAT(
        only_error(tasks("      t: {type: noop, max_interruptions: -1}\n")),
        Catch::StartsWith("test.yaml:14:42: error:") && Catch::Contains("max_interruptions"));
}
