// The engine operations behind the HTTP API: retry of a finished run and marking a task.
#include <future>

#include <catch2/catch.hpp>

#include "tests/component/scheduler/engine_fixture.hpp"

using namespace sluice;
using scheduler::run_op_status;
using scheduler::run_state;
using scheduler::task_state;
using test::fake_step;

namespace {

const char* jobs_yaml = R"(
jobs:
  chain:
    tasks:
      a: {type: noop}
      b: {type: noop, depends_on: [a]}
      c: {type: noop, depends_on: [b]}
      side: {type: noop}
)";

core::result<run_op_status> retry(scheduler::engine& e, core::run_id run) {
    std::promise<core::result<run_op_status>> p;
    auto f = p.get_future();
    e.async_retry_run(run, "api:test", [&](core::result<run_op_status> r) { p.set_value(r); });
    return f.get();
}

core::result<run_op_status> mark(scheduler::engine& e, core::run_id run, const std::string& task,
                                 task_state to) {
    std::promise<core::result<run_op_status>> p;
    auto f = p.get_future();
    e.async_mark_task(run, task, to, "api:test",
                      [&](core::result<run_op_status> r) { p.set_value(r); });
    return f.get();
}

}  // namespace

TEMPLATE_TEST_CASE("retry reruns the failed task and its downstream and keeps successful tasks",
                   "[engine][api]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), jobs_yaml);
    f.script().set("b", {fake_step::permanent(), fake_step::ok()});
    f.start();
    const core::run_id run = f.trigger("chain");
    REQUIRE(f.wait(run).state == run_state::failed);
    CHECK(f.tasks(run)["c"].state == task_state::upstream_failed);

    auto r = retry(f.engine(), run);
    REQUIRE(r.has_value());
    CHECK(r->code == run_op_status::code_t::ok);
    CHECK(r->tasks == std::vector<std::string>{"b", "c"});
    auto record = f.wait(run);
    CHECK(record.state == run_state::success);
    CHECK_FALSE(record.finished_at < record.started_at);
    auto tasks = f.tasks(run);
    CHECK(tasks["a"].try_number == 1);
    CHECK(tasks["b"].try_number == 2);
    CHECK(tasks["c"].try_number == 1);
    CHECK(f.script().attempts_of("a").size() == 1);
    CHECK(f.script().attempts_of("side").size() == 1);
    for (const auto& [name, t] : tasks) {
        INFO(name);
        CHECK(t.state == task_state::success);
    }
    auto retries = f.events("run.retry");
    REQUIRE(retries.size() == 1);
    CHECK(retries[0].actor == "api:test");

    auto again = retry(f.engine(), run);
    REQUIRE(again.has_value());
    CHECK(again->code == run_op_status::code_t::conflict);  // nothing failed any more
    auto unknown = retry(f.engine(), core::run_id{9999});
    REQUIRE(unknown.has_value());
    CHECK(unknown->code == run_op_status::code_t::not_found);
}

// Several failed tasks rerun in one batch: each failed try is kept in the attempt history with
// its error, read before the rerun resets the task (stores may run the batch's same-shaped
// updates together).
TEMPLATE_TEST_CASE("a retry keeps every failed try of the rerun tasks in the attempt history",
                   "[engine][api]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  wide:
    tasks:
      p: {type: noop}
      q: {type: noop}
      r: {type: noop}
      s: {type: noop}
)");
    for (const char* t : {"p", "q", "r", "s"}) {
        f.script().set(t, {fake_step::permanent(), fake_step::ok()});
    }
    f.start();
    const core::run_id run = f.trigger("wide");
    REQUIRE(f.wait(run).state == run_state::failed);
    auto r = retry(f.engine(), run);
    REQUIRE(r.has_value());
    REQUIRE(r->code == run_op_status::code_t::ok);
    REQUIRE(f.wait(run).state == run_state::success);
    auto history = f.store().list_task_attempts(run);
    REQUIRE(history.has_value());
    REQUIRE(history->size() == 4);
    for (const auto& a : *history) {
        CHECK(a.try_number == 1);
        CHECK(a.state == task_state::failed);
        CHECK(a.error_cls == core::error_class::permanent);
        CHECK(a.error_message == "syntax error");
        CHECK(a.started_at.has_value());
        CHECK(a.finished_at.has_value());
    }
    for (const auto& [name, t] : f.tasks(run)) {
        INFO(name);
        CHECK(t.try_number == 2);
        CHECK(t.state == task_state::success);
        CHECK(t.error_message.value_or("") == "");  // the failed try's error stays in history
    }
}

TEST_CASE("retry refuses an active run", "[engine][api]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), jobs_yaml);
    f.script().set("a", {fake_step::hang()});
    f.start();
    const core::run_id run = f.trigger("chain");
    REQUIRE(test::engine_fixture::eventually([&] { return f.script().running() >= 1; }));
    auto r = retry(f.engine(), run);
    REQUIRE(r.has_value());
    CHECK(r->code == run_op_status::code_t::conflict);
    REQUIRE(f.engine().cancel(run).has_value());
    CHECK(f.wait(run).state == run_state::canceled);
}

TEST_CASE("marking a pending task in a live run plans its downstream as if it had ended so",
          "[engine][api]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), jobs_yaml);
    f.script().set("a", {fake_step::hang()});
    f.start();
    const core::run_id run = f.trigger("chain");
    // The attempt executes: its start committed and the engine acted on it (the store shows
    // `running` a moment earlier, while the run's own write is still settling and a mark would
    // rightly get 409).
    REQUIRE(test::engine_fixture::eventually([&] { return f.script().running() >= 1; }));

    auto running = mark(f.engine(), run, "a", task_state::success);
    REQUIRE(running.has_value());
    CHECK(running->code == run_op_status::code_t::conflict);  // a running task is not marked

    auto marked = mark(f.engine(), run, "b", task_state::success);
    REQUIRE(marked.has_value());
    CHECK(marked->code == run_op_status::code_t::ok);
    CHECK(f.tasks(run)["b"].state == task_state::success);
    auto missing = mark(f.engine(), run, "nope", task_state::success);
    REQUIRE(missing.has_value());
    CHECK(missing->code == run_op_status::code_t::not_found);
    auto bad = mark(f.engine(), run, "b", task_state::running);
    REQUIRE(bad.has_value());
    CHECK(bad->code == run_op_status::code_t::invalid);

    REQUIRE(f.engine().cancel(run).has_value());
    f.wait(run);
    auto tasks = f.tasks(run);
    CHECK(tasks["b"].state == task_state::success);  // the mark stands
    CHECK(f.script().attempts_of("b").empty());
    auto marks = f.events("task.mark");
    REQUIRE(marks.size() == 1);
    CHECK(marks[0].actor == "api:test");
    CHECK(marks[0].task == std::optional<std::string>("b"));
}

TEST_CASE("marking a task of a finished run recomputes the run state", "[engine][api]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  pair:
    tasks:
      a: {type: noop}
      b: {type: noop}
)");
    f.script().set("b", {fake_step::permanent()});
    f.start();
    const core::run_id run = f.trigger("pair");
    REQUIRE(f.wait(run).state == run_state::failed);
    auto r = mark(f.engine(), run, "b", task_state::success);
    REQUIRE(r.has_value());
    CHECK(r->code == run_op_status::code_t::ok);
    REQUIRE(test::engine_fixture::eventually([&] {
        auto got = f.store().get_run(run);
        return got && *got && (*got)->state == run_state::success;
    }));
    CHECK(f.tasks(run)["b"].state == task_state::success);
}
