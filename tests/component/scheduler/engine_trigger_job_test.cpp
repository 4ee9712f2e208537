// trigger_job tasks (the real etl/ runner) on the real engine and store: child runs are started
// with params, followed to their end, re-attached by later attempts (never started twice), and
// canceled with their parent. Child tasks are fake runners scripted per task name.
#include <algorithm>
#include <future>

#include <catch2/catch.hpp>

#include "tests/component/scheduler/engine_fixture.hpp"
#include "tests/component/scheduler/trigger_job_runner.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::run_state;
using scheduler::task_state;
using test::fake_step;

namespace {

// An initial load: every load in sequence, a failure does not stop the rest, then the views.
const char* initial_load_yaml = R"(
jobs:
  load_orders:
    params:
      day: {type: string, required: true}
    tasks:
      orders: {type: noop}
  load_users:
    tasks:
      users: {type: noop}
  load_items:
    tasks:
      items: {type: noop}
  initial_load:
    tasks:
      orders: {type: trigger_job, job: load_orders, params: {day: "2026-01-02"}}
      users: {type: trigger_job, job: load_users, depends_on: [orders], trigger_rule: all_done}
      items: {type: trigger_job, job: load_items, depends_on: [users], trigger_rule: all_done}
      views: {type: noop, depends_on: [items], trigger_rule: all_done}
)";

void use_trigger_job(test::engine_fixture& f) {
    f.use_runner(config::task_type::trigger_job, test::make_trigger_job_runner());
}

core::result<scheduler::run_op_status> retry(scheduler::engine& e, core::run_id run) {
    std::promise<core::result<scheduler::run_op_status>> p;
    auto f = p.get_future();
    e.async_retry_run(run, "api:test",
                      [&](core::result<scheduler::run_op_status> r) { p.set_value(r); });
    return f.get();
}

}  // namespace

TEMPLATE_TEST_CASE("an initial load triggers every load in sequence and goes on past a failure",
                   "[engine][trigger_job]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), initial_load_yaml);
    use_trigger_job(f);
    f.script().set("users", {fake_step::permanent()});
    f.start();
    const core::run_id run = f.trigger("initial_load");
    CHECK(f.wait(run).state == run_state::failed);
    auto tasks = f.tasks(run);
    CHECK(tasks["orders"].state == task_state::success);
    CHECK(tasks["users"].state == task_state::failed);
    REQUIRE(tasks["users"].error_message.has_value());
    CHECK_THAT(*tasks["users"].error_message, Catch::Contains("of job load_users ended failed"));
    CHECK(tasks["users"].error_cls == core::error_class::permanent);
    CHECK(tasks["items"].state == task_state::success);
    CHECK(tasks["views"].state == task_state::success);

    // One child run each, in order, the orders load with its param.
    const auto orders = f.runs("load_orders");
    const auto users = f.runs("load_users");
    const auto items = f.runs("load_items");
    REQUIRE(orders.size() == 1);
    REQUIRE(users.size() == 1);
    REQUIRE(items.size() == 1);
    CHECK(orders[0].state == run_state::success);
    CHECK(users[0].state == run_state::failed);
    CHECK(items[0].state == run_state::success);
    std::string params = orders[0].params_json;  // PostgreSQL's jsonb adds blanks
    std::erase(params, ' ');
    CHECK(params == R"({"day":"2026-01-02"})");
    CHECK(orders[0].run_key == "manual:load_orders:trigger_job:" + run.to_string() + ":orders");
    CHECK(users[0].created_at >= *orders[0].finished_at);
    CHECK(items[0].created_at >= *users[0].finished_at);
    const auto child_orders = f.script().attempts_of("orders");
    REQUIRE(child_orders.size() == 1);
    CHECK(child_orders[0].params == std::map<std::string, std::string>{{"day", "2026-01-02"}});
}

TEST_CASE("wait: false succeeds once the child run exists", "[engine][trigger_job]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  child:
    tasks:
      work: {type: noop}
  parent:
    tasks:
      kick: {type: trigger_job, job: child, wait: false}
)");
    use_trigger_job(f);
    f.script().set("work", {fake_step::hang()});
    f.start();
    const core::run_id run = f.trigger("parent");
    CHECK(f.wait(run).state == run_state::success);
    const auto children = f.runs("child");
    REQUIRE(children.size() == 1);
    CHECK(children[0].state == run_state::running);
    REQUIRE(f.engine().cancel(children[0].id).value());
    CHECK(f.wait(children[0].id).state == run_state::canceled);
}

TEST_CASE("canceling the parent run cancels the child run", "[engine][trigger_job]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  child:
    tasks:
      work: {type: noop}
  parent:
    tasks:
      kick: {type: trigger_job, job: child}
)");
    use_trigger_job(f);
    f.script().set("work", {fake_step::hang()});
    f.start();
    const core::run_id run = f.trigger("parent");
    REQUIRE(test::engine_fixture::eventually([&] { return f.script().running() == 1; }));
    REQUIRE(f.engine().cancel(run).value());
    CHECK(f.wait(run).state == run_state::canceled);
    const auto children = f.runs("child");
    REQUIRE(children.size() == 1);
    CHECK(f.wait(children[0].id).state == run_state::canceled);
    CHECK(f.script().attempts_of("work").at(0).stop_reason == "canceled");
}

TEST_CASE("a task timeout while waiting cancels the child run", "[engine][trigger_job]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  child:
    tasks:
      work: {type: noop}
  parent:
    tasks:
      kick: {type: trigger_job, job: child, timeout: 300ms}
)");
    use_trigger_job(f);
    f.script().set("work", {fake_step::hang()});
    f.start();
    const core::run_id run = f.trigger("parent");
    CHECK(f.wait(run).state == run_state::failed);
    const auto children = f.runs("child");
    REQUIRE(children.size() == 1);
    CHECK(f.wait(children[0].id).state == run_state::canceled);
    auto kick = f.tasks(run)["kick"];
    REQUIRE(kick.error_message.has_value());
    CHECK_THAT(*kick.error_message, Catch::Contains("timed out"));
    CHECK_THAT(*kick.error_message, Catch::Contains("canceled"));
}

TEMPLATE_TEST_CASE("after a crash the retried trigger_job re-attaches to its child run",
                   "[engine][trigger_job][recovery]", test::sqlite_database,
                   test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  child:
    tasks:
      work: {type: noop, retries: 2}
  parent:
    tasks:
      kick: {type: trigger_job, job: child, retries: 2}
)");
    use_trigger_job(f);
    f.script().set("work", {fake_step::hang(), fake_step::ok()});
    f.start();
    const core::run_id run = f.trigger("parent");
    REQUIRE(test::engine_fixture::eventually([&] {
        return f.script().running() == 1 && f.tasks(run)["kick"].state == task_state::running;
    }));
    f.crash();
    f.start();
    CHECK(f.wait(run).state == run_state::success);
    const auto children = f.runs("child");
    REQUIRE(children.size() == 1);  // never a second child run
    CHECK(children[0].state == run_state::success);
    CHECK(f.tasks(run)["kick"].try_number == 2);
}

TEST_CASE("retrying a parent whose child failed reruns the child's failed tasks",
          "[engine][trigger_job]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  child:
    tasks:
      good: {type: noop}
      work: {type: noop, depends_on: [good]}
  parent:
    tasks:
      kick: {type: trigger_job, job: child}
)");
    use_trigger_job(f);
    f.script().set("work", {fake_step::permanent(), fake_step::ok()});
    f.start();
    const core::run_id run = f.trigger("parent");
    CHECK(f.wait(run).state == run_state::failed);
    auto r = retry(f.engine(), run);
    REQUIRE(r.has_value());
    REQUIRE(r->code == scheduler::run_op_status::code_t::ok);
    CHECK(f.wait(run).state == run_state::success);
    const auto children = f.runs("child");
    REQUIRE(children.size() == 1);
    CHECK(children[0].state == run_state::success);
    CHECK(f.script().attempts_of("good").size() == 1);  // only the failed part ran again
    CHECK(f.script().attempts_of("work").size() == 2);
}

// A backfill of the parent: each child run works on its parent's interval, not on "now".
TEST_CASE("a child run takes its parent run's logical time and data interval",
          "[engine][trigger_job]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  child:
    tasks:
      work: {type: noop}
  parent:
    schedule: "0 0 1 1 *"
    catchup: none
    tasks:
      kick: {type: trigger_job, job: child}
)");
    use_trigger_job(f);
    f.start();
    scheduler::backfill_request r;
    r.job = "parent";
    r.from = *core::parse_rfc3339("2022-01-01T00:00:00Z");
    r.to = *core::parse_rfc3339("2025-01-01T00:00:00Z");
    r.max_active_runs = 3;
    r.actor = "test";
    auto created = f.engine().create_backfill(std::move(r));
    REQUIRE(created.has_value());
    REQUIRE(created->backfill);
    REQUIRE(test::engine_fixture::eventually(
        [&] {
            const auto runs = f.runs("child");
            return runs.size() == 3 && std::all_of(runs.begin(), runs.end(), [](const auto& c) {
                       return c.state == run_state::success;
                   });
        },
        20s));
    const auto parents = f.runs("parent");
    REQUIRE(parents.size() == 3);
    for (const auto& parent : parents) {
        const auto child = f.runs("child");
        auto it = std::find_if(child.begin(), child.end(), [&](const auto& c) {
            return c.run_key == "manual:child:trigger_job:" + parent.id.to_string() + ":kick";
        });
        REQUIRE(it != child.end());
        CHECK(it->logical_time == parent.logical_time);
        CHECK(it->data_interval_start == parent.data_interval_start);
        CHECK(it->data_interval_end == parent.data_interval_end);
        CHECK(*it->data_interval_start < *parent.data_interval_end);
        CHECK(*it->data_interval_end <= *core::parse_rfc3339("2025-01-01T00:00:00Z"));
    }
}
