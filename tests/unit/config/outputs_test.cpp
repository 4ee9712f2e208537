// Values between tasks in the configuration (docs/task-kinds.md#values-between-tasks): a sql
// task's `outputs`, `:output_<task>_<name>` in SQL and `{{ ... }}` placeholders in http tasks,
// each refused at its line and column.

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/task_outputs.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;

namespace {

// The job's tasks start on line 6.
const std::string prelude = R"(connections:
  pg: {type: postgresql, url: "postgresql://etl@db/app"}
  src: {type: sqlite, url: "sqlite://var/src.db"}
jobs:
  j:
    params: {region: {default: eu}}
    tasks:
)";

std::string tasks(const std::string& body) {
    return prelude + body;
}

}  // namespace

TEST_CASE("config outputs: a sql task lists the columns it publishes", "[config][outputs]") {
    const auto cfg = require_config(
        load_yaml(tasks("      a: {type: sql, connection: pg, sql: \"select 1 as n, 'x' as Path\", "
                        "outputs: [n, Path]}\n")));
    const auto& a = std::get<sql_spec>(cfg.jobs[0].tasks[0].kind);
    CHECK(a.outputs == std::vector<std::string>{"n", "Path"});
    CHECK(only_error(tasks("      a: {type: sql, connection: pg, sql: x, outputs: [n, N]}\n")) ==
          "test.yaml:8:59: error: output 'N' is listed twice (names are compared without case: "
          "they become bind names)");
    CHECK(only_error(tasks("      a: {type: sql, connection: pg, sql: x, outputs: [a-b]}\n")) ==
          "test.yaml:8:56: error: invalid output name 'a-b': use 1 to 64 letters, digits and '_' "
          "(the column's name or alias in the last statement)");
    CHECK(only_error(tasks("      a: {type: sql, connection: pg, sql: x, outputs: n}\n")) ==
          "test.yaml:8:55: error: expected a sequence of column names for 'outputs', got a "
          "scalar");
    CHECK_THAT(
        only_error(tasks("      a: {type: sql, connection: pg, sql: x, output: [n]}\n")),
        Catch::Contains("unknown key 'output'") && Catch::Contains("did you mean 'outputs'"));
}

TEST_CASE("config outputs: :output_ parameters name an upstream task's output",
          "[config][outputs]") {
    // Direct and transitive upstream tasks; shell outputs are known only at run time.
    require_config(load_yaml(tasks(
        "      ex-tract: {type: shell, command: \"echo '::sluice output id=1'\"}\n"
        "      sum: {type: sql, connection: pg, depends_on: ex-tract, outputs: [total],\n"
        "            sql: \"select count(*) as total from t where b = :output_ex_tract_id\"}\n"
        "      copy: {type: copy, depends_on: sum, source: {connection: src, table: t},\n"
        "             sink: {connection: pg, table: t}}\n"
        "      use: {type: sql, connection: pg, depends_on: copy,\n"
        "            sql: \"select :output_sum_total, :output_copy_rows_written, "
        ":output_copy_mark, :output_ex_tract_anything\"}\n")));
    // Not upstream: the message says whose output it is and what to add.
    CHECK(only_error(
              tasks("      a: {type: sql, connection: pg, sql: \"select 1 as n\", outputs: [n]}\n"
                    "      b: {type: sql, connection: pg, sql: \"select :output_a_n\"}\n")) ==
          "test.yaml:9:51: error: task 'b' uses ':output_a_n', an output of task 'a', which is "
          "not upstream of it: a task receives the outputs of the tasks it depends on, directly "
          "or through others (add 'a' to its depends_on)");
    // A name the upstream task does not declare, with a did-you-mean.
    CHECK(only_error(tasks(
              "      a: {type: sql, connection: pg, sql: \"select 1 as n\", outputs: [total]}\n"
              "      b: {type: sql, connection: pg, depends_on: a,\n"
              "          sql: \"select :output_a_totl\"}\n")) ==
          "test.yaml:10:24: error: task 'b' uses ':output_a_totl', which no upstream task "
          "publishes; did you mean ':output_a_total'?");
    // A task that publishes nothing.
    CHECK_THAT(only_error(tasks("      a: {type: noop}\n"
                                "      b: {type: sql, connection: pg, depends_on: a,\n"
                                "          sql: \"select :output_a_x\"}\n")),
               Catch::StartsWith("test.yaml:10:24: error: task 'b' uses ':output_a_x', which no "
                                 "upstream task publishes"));
}

TEST_CASE("config outputs: http placeholders are checked where they stand", "[config][outputs]") {
    const auto cfg = require_config(load_yaml(tasks(
        "      ex: {type: shell, command: \"true\"}\n"
        "      hook: {type: http, method: POST, depends_on: ex,\n"
        "             url: \"https://h.example/r/{{ output.ex.id }}?at={{ logical_time }}\",\n"
        "             headers: {X-Region: \"{{ param.region }}\"},\n"
        "             body: {id: \"{{ output.ex.id }}\", key: \"{{ var.api_key }}\"}}\n")));
    const auto& hook = std::get<http_spec>(cfg.jobs[0].tasks[1].kind);
    CHECK(hook.url == "https://h.example/r/{{ output.ex.id }}?at={{ logical_time }}");
    CHECK(only_error(tasks("      h: {type: http, url: \"https://h/{{ nope }}\"}\n")) ==
          "test.yaml:8:39: error: in the url of task 'h': unknown placeholder 'nope'; use "
          "output.TASK.NAME, param.NAME, var.KEY or one of: job, task, run_id, try_number, "
          "logical_time, data_interval_start, data_interval_end");
    CHECK(only_error(tasks("      h: {type: http, url: \"https://h/{{ param.regon }}\"}\n")) ==
          "test.yaml:8:39: error: job 'j' has no param 'regon'; did you mean 'region'?");
    CHECK(only_error(tasks("      a: {type: noop}\n"
                           "      h: {type: http, url: \"https://h/{{ output.a.x }}\"}\n")) ==
          "test.yaml:9:39: error: task 'h' uses 'output.a.x', which no upstream task publishes "
          "(it has no upstream task that publishes outputs)");
    // In a JSON body a placeholder stands inside a string, so a value cannot add keys.
    CHECK_THAT(only_error(tasks("      h: {type: http, method: POST, url: \"https://h/\",\n"
                                "          body: '{\"n\": {{ run_id }}}'}\n")),
               Catch::StartsWith("test.yaml:9:24: error: a placeholder in the body of task 'h' "
                                 "must stand inside a JSON string"));
}

TEST_CASE("config outputs: upstream tasks are direct and transitive", "[config][outputs]") {
    const auto cfg =
        require_config(load_yaml(tasks("      a: {type: noop}\n"
                                       "      b: {type: noop, depends_on: a}\n"
                                       "      c: {type: noop}\n"
                                       "      d: {type: noop, depends_on: [b, c]}\n")));
    std::vector<std::string> names;
    for (const task_spec* t : upstream_tasks(cfg.jobs[0], "d")) {
        names.push_back(t->name);
    }
    CHECK(names == std::vector<std::string>{"a", "b", "c"});
    CHECK(upstream_tasks(cfg.jobs[0], "a").empty());
    CHECK(output_env_name("ex-tract.v2", "batch_Id") == "SLUICE_OUTPUT_EX_TRACT_V2_BATCH_ID");
    CHECK(output_bind_name("ex-tract.v2", "batch_Id") == "output_ex_tract_v2_batch_id");
}
