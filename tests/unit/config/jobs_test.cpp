#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;
using namespace std::chrono_literals;

namespace {

std::string job(const std::string& fields) {
    return "jobs:\n  j:\n" + fields + "    tasks: {t: {type: noop}}\n";
}

}  // namespace

TEST_CASE("config: job fields are parsed into the job spec", "[config][jobs]") {
    const auto& cfg = require_config(load_yaml(R"(jobs:
  nightly:
    description: Nightly rebuild
    tags: [core, nightly]
    schedule: "0 3 * * *"
    timezone: Europe/Berlin
    catchup: all
    max_catchup_runs: 5
    concurrency: allow
    max_active_runs: 3
    max_active_tasks: 2
    paused: true
    timeout: 2h
    sla: 45m
    params:
      day: {type: date, default: "2026-01-01", description: Day to rebuild}
      mode: {type: string, values: [fast, full], default: fast}
      limit: {type: integer, default: "10"}
      dry: {type: boolean, default: "false"}
      ratio: {type: number, default: "0.5"}
      since: {type: timestamp, default: "2026-01-01T00:00:00Z"}
      note:
    tasks:
      first: {type: noop}
      second: {type: noop, depends_on: first, trigger_rule: one_success, timeout: 5m}
  manual:
    tasks: {t: {type: noop}}
)"));
    REQUIRE(cfg.jobs.size() == 2);
    const job_spec& j = cfg.jobs[0];
    CHECK(j.name == "nightly");
    CHECK(j.defined_at.file == "test.yaml");
    CHECK(j.defined_at.line == 2);
    CHECK(j.description == "Nightly rebuild");
    CHECK(j.tags == std::vector<std::string>{"core", "nightly"});
    CHECK(j.schedule == "0 3 * * *");
    CHECK(j.timezone == "Europe/Berlin");
    CHECK(j.catchup == catchup_policy::all);
    CHECK(j.max_catchup_runs == 5);
    CHECK(j.concurrency == concurrency_policy::allow);
    CHECK(j.max_active_runs == 3);
    CHECK(j.max_active_tasks == 2);
    CHECK(j.paused);
    CHECK(j.timeout == 2h);
    CHECK(j.sla == 45min);
    REQUIRE(j.params.size() == 7);
    CHECK(j.params[0].name == "day");
    CHECK(j.params[0].type == param_type::date);
    CHECK_FALSE(j.params[0].required);
    CHECK(j.params[0].default_value == "2026-01-01");
    CHECK(j.params[0].description == "Day to rebuild");
    CHECK(j.params[1].values == std::vector<std::string>{"fast", "full"});
    CHECK(j.params[1].default_value == "fast");
    CHECK(j.params[6].name == "note");
    CHECK(j.params[6].type == param_type::string);
    REQUIRE(j.tasks.size() == 2);
    CHECK(j.tasks[0].name == "first");
    CHECK(j.tasks[1].depends_on == std::vector<std::string>{"first"});
    CHECK(j.tasks[1].rule == trigger_rule::one_success);
    CHECK(j.tasks[1].timeout == 5min);
    CHECK(j.find_task("second") == &j.tasks[1]);
    CHECK(j.find_task("nope") == nullptr);
    const job_spec& m = cfg.jobs[1];
    CHECK_FALSE(m.schedule.has_value());
    CHECK(m.timezone == "UTC");
    CHECK(m.catchup == catchup_policy::latest);
    CHECK(m.concurrency == concurrency_policy::allow);
    CHECK(m.max_active_runs == 1);
    CHECK(cfg.find_job("manual") == &m);
}

TEST_CASE("config: bad cron expressions point at the offending field", "[config][jobs]") {
    // Plain scalar: the column of the scalar plus the field's offset.
    CHECK(only_error(job("    schedule: 0 99 * * *\n")) ==
          "test.yaml:3:17: error: invalid schedule '0 99 * * *': hour: 99 is out of range 0-23");
    // Double-quoted: one more for the quote.
    CHECK(only_error(job("    schedule: \"0 99 * * *\"\n")) ==
          "test.yaml:3:18: error: invalid schedule '0 99 * * *': hour: 99 is out of range 0-23");
    // Single-quoted.
    CHECK(only_error(job("    schedule: '*/5 * 1 X *'\n")) ==
          "test.yaml:3:24: error: invalid schedule '*/5 * 1 X *': month: unknown month 'X' "
          "(expected 1-12 or JAN, FEB, ..., DEC)");
    // Escapes before the field are mapped back to the file: "\x30" is one decoded byte.
    CHECK(only_error(job("    schedule: \"\\x30 0 99 * *\"\n")) ==
          "test.yaml:3:23: error: invalid schedule '0 0 99 * *': day-of-month: 99 is out of range "
          "1-31");
    // Flow mapping: the scalar's own column counts.
    CHECK(only_error("jobs:\n  j: {schedule: \"0 0 1 1 X\", tasks: {t: {type: noop}}}\n") ==
          "test.yaml:2:26: error: invalid schedule '0 0 1 1 X': day-of-week: unknown weekday 'X' "
          "(expected 0-7 or SUN, MON, ..., SAT)");
    // Block scalar: the start of the scalar.
    CHECK(only_error(job("    schedule: >-\n      0 0 1 1 X\n")) ==
          "test.yaml:3:15: error: invalid schedule '0 0 1 1 X': day-of-week: unknown weekday 'X' "
          "(expected 0-7 or SUN, MON, ..., SAT)");
    CHECK(only_error(job("    schedule: \"0 0 *\"\n")) ==
          "test.yaml:3:16: error: invalid schedule '0 0 *': expected 5 fields (minute hour "
          "day-of-month month day-of-week), 6 (with leading seconds) or 7 (with trailing year), "
          "got 3");
    CHECK(only_error(job("    schedule: \"\"\n")) ==
          "test.yaml:3:15: error: the schedule is empty; remove 'schedule' for a job that only "
          "runs when triggered");
}

TEST_CASE("config: schedule: null makes a manual-only job", "[config][jobs]") {
    const auto& cfg = require_config(load_yaml(job("    schedule: null\n")));
    CHECK_FALSE(cfg.jobs.at(0).schedule.has_value());
}

TEST_CASE("config: job time zones are checked", "[config][jobs]") {
    CHECK(only_error(job("    timezone: America/NewYork\n")) ==
          "test.yaml:3:15: error: unknown time zone 'America/NewYork'; did you mean "
          "'America/New_York'? (expected an IANA name such as UTC, Europe/Berlin or "
          "America/New_York)");
}

TEST_CASE("config: max_active_runs applies only with concurrency allow", "[config][jobs]") {
    CHECK(only_error(job("    concurrency: forbid\n    max_active_runs: 2\n")) ==
          "test.yaml:4:22: error: 'max_active_runs' applies only with concurrency: allow (job "
          "'j' uses forbid, which runs one at a time)");
}

TEST_CASE("config: a job needs tasks", "[config][jobs]") {
    CHECK(only_error("jobs:\n  j:\n    schedule: \"* * * * *\"\n") ==
          "test.yaml:2:3: error: missing required key 'tasks' in job 'j'");
    CHECK(only_error("jobs:\n  j:\n    tasks: {}\n") ==
          "test.yaml:3:12: error: job 'j' has no tasks; add at least one (a noop task will do)");
}

TEST_CASE("config: job and task names are checked", "[config][jobs]") {
    CHECK(only_error("jobs:\n  \"bad name\":\n    tasks: {t: {type: noop}}\n") ==
          "test.yaml:2:3: error: invalid job name 'bad name': use letters, digits, '_', '-' and "
          "'.' (it appears in URLs)");
    CHECK(only_error(job_with_tasks("      \"a/b\": {type: noop}\n")) ==
          "test.yaml:4:7: error: invalid task name 'a/b': use letters, digits, '_', '-' and '.'");
}

TEST_CASE("config: params are checked against their type", "[config][jobs]") {
    const auto r = load_yaml(R"(jobs:
  j:
    params:
      n: {type: integer, default: ten}
      d: {type: date, default: "2026-02-30"}
      b: {type: boolean, required: true, default: "true"}
      m: {type: string, values: [a, b], default: c}
      t: {type: datetime}
      bad-name: {}
    tasks: {t: {type: noop}}
)");
    CHECK(formatted(r) ==
          std::vector<std::string>{
              "test.yaml:4:35: error: invalid default 'ten' for param 'n' of type integer: "
              "expected an integer",
              "test.yaml:5:32: error: invalid default '2026-02-30' for param 'd' of type date: "
              "expected a date such as 2026-03-29",
              "test.yaml:6:51: error: param 'b' is required, so it cannot have a default",
              "test.yaml:7:50: error: the default 'c' of param 'm' is not one of its values: a, b",
              "test.yaml:8:17: error: invalid value 'datetime' for 'type': expected one of "
              "string, integer, number, boolean, date, timestamp",
              "test.yaml:9:7: error: invalid param name 'bad-name': use letters, digits and '_' "
              "(it becomes SLUICE_PARAM_bad-name and :param_bad-name)",
          });
}

TEST_CASE("config: a scheduled job cannot require a param without a default", "[config][jobs]") {
    CHECK(only_error(R"(jobs:
  nightly:
    schedule: "0 3 * * *"
    params:
      day: {type: date, required: true}
    tasks: {t: {type: noop}}
)") == "test.yaml:5:35: error: param 'day' is required, but job 'nightly' has a schedule: its "
       "scheduled runs would have no value for it; give the param a default instead");
    // A manual job may require it: every trigger passes it.
    CHECK(require_config(load_yaml(R"(jobs:
  manual:
    params:
      day: {type: date, required: true}
    tasks: {t: {type: noop}}
)"))
              .jobs.front()
              .params.front()
              .required);
}

TEST_CASE("config: depends_on must name tasks of the same job", "[config][jobs]") {
    CHECK(only_error(job_with_tasks("      load: {type: noop}\n"
                                    "      views: {type: noop, depends_on: [lod]}\n")) ==
          "test.yaml:5:40: error: unknown task 'lod' in depends_on of task 'views'; did you mean "
          "'load'?");
    CHECK(only_error(job_with_tasks("      load: {type: noop}\n"
                                    "      views: {type: noop, depends_on: [zzzzz]}\n")) ==
          "test.yaml:5:40: error: unknown task 'zzzzz' in depends_on of task 'views'; tasks of "
          "job 'j': load, views");
    CHECK(only_error(job_with_tasks("      load: {type: noop}\n"
                                    "      views: {type: noop, depends_on: [load, load]}\n")) ==
          "test.yaml:5:46: error: task 'views' lists 'load' twice in depends_on");
}

TEST_CASE("config: dependency cycles are named, each once", "[config][jobs]") {
    CHECK(only_error(job_with_tasks("      a: {type: noop, depends_on: [a]}\n")) ==
          "test.yaml:4:36: error: dependency cycle in job 'j': a -> a (each task depends on the "
          "next)");
    const auto r =
        load_yaml(job_with_tasks("      a: {type: noop, depends_on: [b]}\n"
                                 "      b: {type: noop, depends_on: [a, c]}\n"
                                 "      c: {type: noop, depends_on: [b]}\n"
                                 "      d: {type: noop, depends_on: [e]}\n"
                                 "      e: {type: noop, depends_on: [d]}\n"));
    CHECK(formatted(r) == std::vector<std::string>{
                              "test.yaml:4:36: error: dependency cycle in job 'j': a -> b -> a "
                              "(each task depends on the next)",
                              "test.yaml:5:39: error: dependency cycle in job 'j': b -> c -> b "
                              "(each task depends on the next)",
                              "test.yaml:7:36: error: dependency cycle in job 'j': d -> e -> d "
                              "(each task depends on the next)",
                          });
    // A diamond is not a cycle.
    require_config(
        load_yaml(job_with_tasks("      a: {type: noop}\n"
                                 "      b: {type: noop, depends_on: [a]}\n"
                                 "      c: {type: noop, depends_on: [a]}\n"
                                 "      d: {type: noop, depends_on: [b, c]}\n")));
}

TEST_CASE("config: trigger_job targets, params and cycles are checked", "[config][jobs]") {
    const std::string base = R"(jobs:
  child:
    params:
      day: {type: date, required: true}
      mode: {type: string, values: [fast, full], default: fast}
    tasks: {t: {type: noop}}
)";
    const auto& cfg = require_config(load_yaml(
        base +
        "  parent:\n    tasks:\n"
        "      go: {type: trigger_job, job: child, params: {day: \"2026-01-02\"}, wait: false}\n"));
    const auto& go = std::get<trigger_job_spec>(cfg.jobs.at(1).tasks.at(0).kind);
    CHECK(go.job == "child");
    CHECK(go.params == std::vector<std::pair<std::string, std::string>>{{"day", "2026-01-02"}});
    CHECK_FALSE(go.wait);

    const auto r = load_yaml(
        base +
        "  parent:\n    tasks:\n"
        "      a: {type: trigger_job, job: chld}\n"
        "      b: {type: trigger_job, job: child, params: {day: x, mod: full}}\n"
        "      c: {type: trigger_job, job: child, params: {day: \"2026-01-01\", mode: slow}}\n");
    CHECK(formatted(r) ==
          std::vector<std::string>{
              "test.yaml:9:35: error: unknown job 'chld' in trigger_job task 'a'; did you mean "
              "'child'?",
              "test.yaml:10:56: error: invalid value for param 'day' of job 'child' (type date): "
              "expected a date such as 2026-03-29",
              "test.yaml:10:59: error: job 'child' has no param 'mod'; did you mean 'mode'?",
              "test.yaml:11:76: error: param 'mode' of job 'child' must be one of: fast, full",
          });
    CHECK(only_error(base + "  parent:\n    tasks:\n      a: {type: trigger_job, job: child}\n") ==
          "test.yaml:9:7: error: trigger_job task 'a' must pass param 'day', which job 'child' "
          "requires");
    const auto cycle = load_yaml(R"(jobs:
  a:
    tasks: {t: {type: trigger_job, job: b}}
  b:
    tasks: {t: {type: trigger_job, job: a}}
  c:
    tasks: {t: {type: trigger_job, job: c}}
)");
    CHECK(formatted(cycle) ==
          std::vector<std::string>{
              "test.yaml:3:41: error: trigger_job cycle: a -> b -> a (each job triggers the next)",
              "test.yaml:7:41: error: trigger_job cycle: c -> c (each job triggers the next)",
          });
}
