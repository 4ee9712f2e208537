#include "scheduler/planner.hpp"

#include <catch2/catch.hpp>

#include "config/loader.hpp"

using namespace sluice;
using config::trigger_rule;
using scheduler::task_state;

namespace {

// A job from YAML; tasks are noop so only the DAG matters.
config::job_spec job_from(const std::string& tasks_yaml) {
    std::string yaml = "jobs:\n  j:\n    tasks:\n" + tasks_yaml;
    config::load_result loaded = config::load_string(yaml, "test.yaml", {});
    std::string problems;
    for (const auto& d : loaded.diagnostics) {
        problems += config::format_diagnostic(d) + "\n";
    }
    INFO(yaml << problems);
    REQUIRE(loaded.config);
    return loaded.config->jobs.at(0);
}

scheduler::run_graph graph_of(const std::string& tasks_yaml) {
    auto g = scheduler::run_graph::from_job(job_from(tasks_yaml));
    REQUIRE(g.has_value());
    return *g;
}

scheduler::upstream_summary ups(int total, int success, int failed, int upstream_failed,
                                int skipped, int running = 0) {
    scheduler::upstream_summary s;
    s.total = total;
    s.success = success;
    s.failed = failed;
    s.upstream_failed = upstream_failed;
    s.skipped = skipped;
    s.done = total - running;
    return s;
}

}  // namespace

TEST_CASE("planner queues roots and waits for upstream tasks", "[planner]") {
    auto g = graph_of(
        "      a: {type: noop}\n"
        "      b: {type: noop, depends_on: [a]}\n"
        "      c: {type: noop, depends_on: [a]}\n"
        "      d: {type: noop, depends_on: [b, c]}\n");
    std::vector<task_state> s(4, task_state::pending);
    auto plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].node == 0);
    CHECK(plan[0].to == task_state::queued);

    s[0] = task_state::success;
    plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 2);  // both branches at once: they run in parallel
    CHECK(plan[0].node == 1);
    CHECK(plan[1].node == 2);

    s[1] = task_state::success;
    s[2] = task_state::running;
    CHECK(scheduler::plan_pending(g, s).empty());
    s[2] = task_state::up_for_retry;
    CHECK(scheduler::plan_pending(g, s).empty());
    s[2] = task_state::success;
    plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].node == 3);
}

TEST_CASE("planner propagates upstream_failed down a chain in one pass", "[planner]") {
    auto g = graph_of(
        "      a: {type: noop}\n"
        "      b: {type: noop, depends_on: [a]}\n"
        "      c: {type: noop, depends_on: [b]}\n"
        "      cleanup: {type: noop, depends_on: [c], trigger_rule: all_done}\n");
    std::vector<task_state> s = {task_state::failed, task_state::pending, task_state::pending,
                                 task_state::pending};
    auto plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 3);
    CHECK(plan[0].to == task_state::upstream_failed);
    CHECK(plan[1].to == task_state::upstream_failed);
    CHECK(plan[2].node == 3);
    CHECK(plan[2].to == task_state::queued);
}

TEST_CASE("planner propagates skipped from a one_failed branch that did not fire", "[planner]") {
    auto g = graph_of(
        "      a: {type: noop}\n"
        "      on_fail: {type: noop, depends_on: [a], trigger_rule: one_failed}\n"
        "      after_fail: {type: noop, depends_on: [on_fail]}\n"
        "      join: {type: noop, depends_on: [after_fail], trigger_rule: none_failed}\n");
    std::vector<task_state> s = {task_state::success, task_state::pending, task_state::pending,
                                 task_state::pending};
    auto plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 3);
    CHECK(plan[0].to == task_state::skipped);
    CHECK(plan[1].to == task_state::skipped);
    CHECK(plan[2].to == task_state::queued);  // none_failed accepts skipped upstreams
}

TEST_CASE("all_success rule", "[planner][trigger_rule]") {
    auto r = trigger_rule::all_success;
    CHECK(scheduler::evaluate_rule(r, ups(2, 2, 0, 0, 0)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 0, 0, 0, 1)) == std::nullopt);
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 1, 0, 0)) == task_state::upstream_failed);
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 0, 1, 0)) == task_state::upstream_failed);
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 0, 0, 1)) == task_state::skipped);
    CHECK(scheduler::evaluate_rule(r, ups(0, 0, 0, 0, 0)) == task_state::queued);
}

TEST_CASE("all_done rule", "[planner][trigger_rule]") {
    auto r = trigger_rule::all_done;
    CHECK(scheduler::evaluate_rule(r, ups(3, 1, 1, 1, 0)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(3, 0, 0, 0, 3)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(3, 1, 1, 0, 0, 1)) == std::nullopt);
}

TEST_CASE("one_failed rule fires early", "[planner][trigger_rule]") {
    auto r = trigger_rule::one_failed;
    CHECK(scheduler::evaluate_rule(r, ups(3, 0, 1, 0, 0, 2)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(3, 0, 0, 1, 0, 2)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(3, 1, 0, 0, 0, 2)) == std::nullopt);
    CHECK(scheduler::evaluate_rule(r, ups(3, 2, 0, 0, 1)) == task_state::skipped);
}

TEST_CASE("one_success rule fires early", "[planner][trigger_rule]") {
    auto r = trigger_rule::one_success;
    CHECK(scheduler::evaluate_rule(r, ups(3, 1, 0, 0, 0, 2)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(3, 0, 1, 0, 0, 2)) == std::nullopt);
    CHECK(scheduler::evaluate_rule(r, ups(3, 0, 0, 0, 3)) == task_state::skipped);
    CHECK(scheduler::evaluate_rule(r, ups(3, 0, 2, 0, 1)) == task_state::upstream_failed);
}

TEST_CASE("none_failed rule", "[planner][trigger_rule]") {
    auto r = trigger_rule::none_failed;
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 0, 0, 1)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 1, 0, 0)) == task_state::upstream_failed);
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 0, 1, 0)) == task_state::upstream_failed);
    CHECK(scheduler::evaluate_rule(r, ups(2, 1, 0, 0, 0, 1)) == std::nullopt);
}

TEST_CASE("always rule does not wait", "[planner][trigger_rule]") {
    auto r = trigger_rule::always;
    CHECK(scheduler::evaluate_rule(r, ups(2, 0, 0, 0, 0, 2)) == task_state::queued);
    CHECK(scheduler::evaluate_rule(r, ups(2, 0, 2, 0, 0)) == task_state::queued);
}

TEST_CASE("canceled upstream counts as failed", "[planner][trigger_rule]") {
    auto g = graph_of(
        "      a: {type: noop}\n"
        "      b: {type: noop, depends_on: [a]}\n");
    std::vector<task_state> s = {task_state::canceled, task_state::pending};
    auto plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].to == task_state::upstream_failed);
}

TEST_CASE("diamond with mixed rules resolves to a fixpoint", "[planner]") {
    auto g = graph_of(
        "      extract: {type: noop}\n"
        "      left: {type: noop, depends_on: [extract]}\n"
        "      right: {type: noop, depends_on: [extract], trigger_rule: one_failed}\n"
        "      join: {type: noop, depends_on: [left, right], trigger_rule: one_success}\n"
        "      report: {type: noop, depends_on: [join], trigger_rule: all_done}\n");
    std::vector<task_state> s(5, task_state::pending);
    s[0] = task_state::success;
    auto plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].node == 1);
    CHECK(plan[0].to == task_state::queued);
    CHECK(plan[1].node == 2);
    CHECK(plan[1].to == task_state::skipped);
    s[1] = task_state::success;
    s[2] = task_state::skipped;
    plan = scheduler::plan_pending(g, s);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].node == 3);
    CHECK(plan[0].to == task_state::queued);
}

TEST_CASE("run graph rejects unknown dependencies and cycles", "[planner]") {
    config::job_spec job;
    job.name = "j";
    config::task_spec a;
    a.name = "a";
    a.depends_on = {"b"};
    config::task_spec b;
    b.name = "b";
    b.depends_on = {"a"};
    job.tasks = {a, b};
    auto cyc = scheduler::run_graph::from_job(job);
    REQUIRE_FALSE(cyc.has_value());
    CHECK_THAT(cyc.error().message, Catch::Contains("cycle"));
    job.tasks[1].depends_on = {"zzz"};
    auto unknown = scheduler::run_graph::from_job(job);
    REQUIRE_FALSE(unknown.has_value());
    CHECK_THAT(unknown.error().message, Catch::Contains("zzz"));
}

TEST_CASE("final run state", "[planner]") {
    using v = std::vector<task_state>;
    CHECK(scheduler::final_run_state(v{task_state::success, task_state::skipped}) ==
          scheduler::run_state::success);
    CHECK(scheduler::final_run_state(v{task_state::success, task_state::failed}) ==
          scheduler::run_state::failed);
    CHECK(scheduler::final_run_state(v{task_state::upstream_failed}) ==
          scheduler::run_state::failed);
    CHECK(scheduler::final_run_state(v{task_state::canceled}) == scheduler::run_state::failed);
    CHECK(scheduler::final_run_state(v{}) == scheduler::run_state::success);
    CHECK(scheduler::all_terminal(v{task_state::success, task_state::skipped}));
    CHECK_FALSE(scheduler::all_terminal(v{task_state::success, task_state::up_for_retry}));
}
