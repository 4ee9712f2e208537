// The engine runs DAGs: parallel branches, retries with backoff, trigger rules, params, events.
// The main scenarios run on both stores (one suite, two implementations).

#include <catch2/catch.hpp>

#include "tests/component/scheduler/engine_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::run_state;
using scheduler::task_state;
using test::fake_step;

namespace {

const char* parallel_yaml = R"(
workers: 4
jobs:
  etl:
    tasks:
      extract: {type: noop}
      left:  {type: noop, depends_on: [extract]}
      right: {type: noop, depends_on: [extract]}
      join:  {type: noop, depends_on: [left, right]}
)";

bool overlap(const test::fake_attempt& a, const test::fake_attempt& b) {
    return a.started < b.ended && b.started < a.ended;
}

}  // namespace

TEMPLATE_TEST_CASE("engine runs independent branches concurrently", "[engine][dag]",
                   test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), parallel_yaml);
    // Long enough that the second branch starts before the first ends on a loaded machine.
    f.script().set("left", {fake_step::sleep_for(1500ms)});
    f.script().set("right", {fake_step::sleep_for(1500ms)});
    f.start();
    core::run_id run = f.trigger("etl");
    auto record = f.wait(run);
    CHECK(record.state == run_state::success);
    auto tasks = f.tasks(run);
    for (const auto& [name, t] : tasks) {
        INFO(name);
        CHECK(t.state == task_state::success);
        CHECK(t.try_number == 1);
        CHECK(t.lease_owner == std::nullopt);  // released at the end
    }
    auto left = f.script().attempts_of("left");
    auto right = f.script().attempts_of("right");
    REQUIRE(left.size() == 1);
    REQUIRE(right.size() == 1);
    CHECK(overlap(left[0], right[0]));
    auto join = f.script().attempts_of("join");
    REQUIRE(join.size() == 1);
    CHECK(join[0].started >= left[0].ended);
    CHECK(join[0].started >= right[0].ended);
    CHECK(tasks["join"].metrics_json.find("rows") != std::string::npos);
    auto logs = f.store().read_task_log(tasks["extract"].id, 0, 100);
    REQUIRE(logs.has_value());
    REQUIRE(logs->size() == 1);
    CHECK(logs->at(0).line.text == "try 1 of extract");
    // Every transition is in the events table, and the observer saw them too.
    CHECK(f.events("task.state").size() >= 12);  // 4 tasks x pending->queued->running->success
    CHECK(f.events("run.state").size() >= 2);
    CHECK(f.observed().size() >= 14);
}

TEMPLATE_TEST_CASE("engine retries transient failures with backoff then fails", "[engine][retry]",
                   test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  flaky:
    tasks:
      load:
        type: noop
        retries: {max_attempts: 3, delay: 100ms, backoff: 2.0, max_delay: 1s}
      after: {type: noop, depends_on: [load]}
)");
    f.script().set("load", {fake_step::transient()});
    f.start();
    core::run_id run = f.trigger("flaky");
    auto record = f.wait(run);
    CHECK(record.state == run_state::failed);
    auto tasks = f.tasks(run);
    CHECK(tasks["load"].state == task_state::failed);
    CHECK(tasks["load"].try_number == 3);
    CHECK(tasks["load"].error_cls == core::error_class::transient);
    CHECK(tasks["load"].error_message == "connection reset");
    CHECK(tasks["after"].state == task_state::upstream_failed);
    auto tries = f.script().attempts_of("load");
    REQUIRE(tries.size() == 3);
    CHECK(tries[1].started - tries[0].ended >= 95ms);   // delay
    CHECK(tries[2].started - tries[1].ended >= 195ms);  // delay * backoff
    CHECK(f.script().attempts_of("after").empty());
}

TEST_CASE("engine fails permanent failures at once and succeeds a retried task",
          "[engine][retry]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  j:
    tasks:
      broken: {type: noop, retries: {max_attempts: 5, delay: 10ms}}
      flaky: {type: noop, retries: {max_attempts: 3, delay: 10ms}}
)");
    f.script().set("broken", {fake_step::permanent()});
    f.script().set("flaky", {fake_step::transient(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("j");
    CHECK(f.wait(run).state == run_state::failed);
    auto tasks = f.tasks(run);
    CHECK(tasks["broken"].state == task_state::failed);
    CHECK(tasks["broken"].try_number == 1);
    CHECK(tasks["broken"].error_cls == core::error_class::permanent);
    CHECK(tasks["flaky"].state == task_state::success);
    CHECK(tasks["flaky"].try_number == 2);
}

TEMPLATE_TEST_CASE("engine applies all_done and one_failed rules", "[engine][trigger_rule]",
                   test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  rules:
    tasks:
      load: {type: noop}
      publish: {type: noop, depends_on: [load]}
      alert: {type: noop, depends_on: [load], trigger_rule: one_failed}
      cleanup: {type: noop, depends_on: [publish, alert], trigger_rule: all_done}
)");
    f.script().set("load", {fake_step::permanent()});
    f.start();
    core::run_id run = f.trigger("rules");
    CHECK(f.wait(run).state == run_state::failed);
    auto tasks = f.tasks(run);
    CHECK(tasks["load"].state == task_state::failed);
    CHECK(tasks["publish"].state == task_state::upstream_failed);
    CHECK(tasks["alert"].state == task_state::success);
    CHECK(tasks["cleanup"].state == task_state::success);

    // The same DAG when load succeeds: alert is skipped, cleanup still runs, the run succeeds.
    f.script().set("load", {fake_step::ok()});
    core::run_id second = f.trigger("rules");
    CHECK(f.wait(second).state == run_state::success);
    tasks = f.tasks(second);
    CHECK(tasks["publish"].state == task_state::success);
    CHECK(tasks["alert"].state == task_state::skipped);
    CHECK(tasks["cleanup"].state == task_state::success);
}

TEST_CASE("engine honours workers, max_active_tasks and pools", "[engine][dispatch]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
workers: 3
pools: {db: 1}
jobs:
  wide:
    max_active_tasks: 2
    tasks:
      a: {type: noop}
      b: {type: noop}
      c: {type: noop}
      d: {type: noop}
  pooled:
    tasks:
      p1: {type: noop, pool: db}
      p2: {type: noop, pool: db}
)");
    for (const char* t : {"a", "b", "c", "d", "p1", "p2"}) {
        f.script().set(t, {fake_step::sleep_for(100ms)});
    }
    f.start();
    core::run_id wide = f.trigger("wide");
    CHECK(f.wait(wide).state == run_state::success);
    CHECK(f.script().max_concurrent() == 2);  // max_active_tasks
    core::run_id pooled = f.trigger("pooled");
    CHECK(f.wait(pooled).state == run_state::success);
    auto p1 = f.script().attempts_of("p1");
    auto p2 = f.script().attempts_of("p2");
    REQUIRE(p1.size() == 1);
    REQUIRE(p2.size() == 1);
    CHECK_FALSE(overlap(p1[0], p2[0]));  // pool db has one slot
}

TEST_CASE("engine trigger validates params and honours idempotency keys", "[engine][trigger]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  param_job:
    params:
      day: {type: date, required: true}
      limit: {type: integer, default: "10"}
    tasks:
      t: {type: noop}
  sleepy:
    paused: true
    tasks:
      t: {type: noop}
)");
    f.start();
    scheduler::trigger_request bad;
    bad.job = "param_job";
    bad.params = {{"day", "tomorrow"}};
    auto r = f.engine().trigger(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == scheduler::trigger_errc::bad_params);
    bad.params = {{"day", "2026-01-01"}, {"nope", "1"}};
    r = f.engine().trigger(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == scheduler::trigger_errc::bad_params);

    scheduler::trigger_request unknown;
    unknown.job = "nope";
    r = f.engine().trigger(unknown);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == scheduler::trigger_errc::unknown_job);

    scheduler::trigger_request paused;
    paused.job = "sleepy";
    r = f.engine().trigger(paused);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == scheduler::trigger_errc::paused);

    scheduler::trigger_request good;
    good.job = "param_job";
    good.params = {{"day", "2026-01-01"}};
    good.idempotency_key = "abc";
    auto first = f.engine().trigger(good);
    REQUIRE(first.has_value());
    CHECK(first->created);
    auto second = f.engine().trigger(good);
    REQUIRE(second.has_value());
    CHECK_FALSE(second->created);
    CHECK(second->run == first->run);
    CHECK(f.wait(first->run).state == run_state::success);
    auto third = f.engine().trigger(good);  // after the run finished: still the same run
    REQUIRE(third.has_value());
    CHECK(third->run == first->run);
    CHECK(f.runs("param_job").size() == 1);
    auto attempts = f.script().attempts_of("t");
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].params ==
          std::map<std::string, std::string>{{"day", "2026-01-01"}, {"limit", "10"}});
}

TEST_CASE("engine queues runs beyond max_active_runs in order", "[engine][dispatch]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  single_file:
    max_active_runs: 1
    tasks:
      t: {type: noop}
)");
    f.script().set("t", {fake_step::sleep_for(150ms)});
    f.start();
    core::run_id first = f.trigger("single_file");
    core::run_id second = f.trigger("single_file");
    CHECK(f.wait(second).state == run_state::success);
    CHECK(f.wait(first).state == run_state::success);
    auto attempts = f.script().attempts();
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].run == first.value);
    CHECK(attempts[1].run == second.value);
    CHECK_FALSE(overlap(attempts[0], attempts[1]));
    CHECK(f.script().max_concurrent() == 1);
}

TEST_CASE("engine renews the lease of a long attempt by heartbeat", "[engine][lease]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  long:
    tasks:
      t: {type: noop}
)");
    f.script().set("t", {fake_step::sleep_for(900ms)});
    f.start();
    core::run_id run = f.trigger("long");
    REQUIRE(test::engine_fixture::eventually(
        [&] { return f.tasks(run)["t"].state == scheduler::task_state::running; }));
    auto first = f.tasks(run)["t"];
    REQUIRE(first.lease_expires_at.has_value());
    CHECK(first.lease_owner == "test-instance");
    CHECK(first.lease_epoch == 1);
    CHECK(test::engine_fixture::eventually(
        [&] {
            auto now = f.tasks(run)["t"];
            return now.lease_expires_at && *now.lease_expires_at > *first.lease_expires_at;
        },
        2s));
    CHECK(f.wait(run).state == run_state::success);
    auto done = f.tasks(run)["t"];
    CHECK_FALSE(done.lease_owner.has_value());
    CHECK(done.lease_epoch == 1);
}
