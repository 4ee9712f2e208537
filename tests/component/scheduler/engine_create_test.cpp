// Runs created already started (docs/architecture.md#group-commit): a run its job has room for
// is written running, with its first tasks queued and, as far as workers are free, running under
// the engine's lease, in its creation's commit. Only the number of commits changes; the states,
// events, limits and recovery are those of a run created queued and started after.

#include <algorithm>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/component/scheduler/engine_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::run_state;
using scheduler::task_state;
using test::fake_step;

namespace {

// The (kind, payload) of a run's events in the store, oldest first.
std::vector<std::pair<std::string, std::string>> run_events(test::engine_fixture& f,
                                                            core::run_id run) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string kind : {"run.state", "task.state"}) {
        for (const auto& e : f.events(kind)) {
            if (e.run == run) {
                out.emplace_back(e.kind, e.payload_json);
            }
        }
    }
    return out;
}

// Whether one of `events` is of `kind` and its payload holds every member of `fields` (JSONB
// on PostgreSQL reformats the text, so payloads are compared as JSON).
bool has(const std::vector<std::pair<std::string, std::string>>& events, const std::string& kind,
         const nlohmann::json& fields) {
    return std::any_of(events.begin(), events.end(), [&](const auto& e) {
        if (e.first != kind) {
            return false;
        }
        const nlohmann::json payload = nlohmann::json::parse(e.second);
        for (const auto& [key, value] : fields.items()) {
            if (!payload.contains(key) || payload[key] != value) {
                return false;
            }
        }
        return true;
    });
}

}  // namespace

TEMPLATE_TEST_CASE("a triggered run its job has room for starts its task in its creation's commit",
                   "[engine][create]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  one:
    tasks:
      t: {type: noop}
)");
    f.start();
    const int before = f.commits();
    core::run_id run = f.trigger("one");
    CHECK(f.wait(run).state == run_state::success);
    // Created running with its task leased (1), then the task's end with the run's (2). Created
    // queued and started after, it took three.
    CHECK(f.commits() - before == 2);
    auto task = f.tasks(run)["t"];
    CHECK(task.state == task_state::success);
    CHECK(task.try_number == 1);
    CHECK(task.lease_epoch == 1);
    CHECK(task.lease_owner == std::nullopt);
    CHECK(task.queued_at.has_value());
    CHECK(task.started_at.has_value());
    auto record = f.wait(run);
    REQUIRE(record.started_at.has_value());
    CHECK(*record.started_at >= record.created_at);
    // The same events as a run started after its creation.
    auto events = run_events(f, run);
    CHECK(has(events, "run.state", {{"to", "queued"}}));
    CHECK(has(events, "run.state", {{"from", "queued"}, {"to", "running"}}));
    CHECK(has(events, "task.state", {{"from", "pending"}, {"to", "queued"}}));
    CHECK(has(events, "task.state", {{"from", "queued"}, {"to", "running"}}));
    CHECK(has(events, "task.state", {{"to", "success"}}));
    CHECK(has(events, "run.state", {{"to", "success"}}));
    CHECK(f.observed().size() >= 6);
}

TEST_CASE("a run created started while every worker is busy has its first task queued",
          "[engine][create]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
workers: 1
jobs:
  busy:
    tasks:
      long: {type: noop}
  next:
    tasks:
      a: {type: noop}
      b: {type: noop, depends_on: [a]}
)");
    f.script().set("long", {fake_step::sleep_for(600ms)});
    f.start();
    core::run_id first = f.trigger("busy");
    REQUIRE(test::engine_fixture::eventually(
        [&] { return f.tasks(first)["long"].state == task_state::running; }));
    core::run_id second = f.trigger("next");
    // Written running, its ready task queued behind the one worker, its second one pending.
    auto run = f.store().get_run(second);
    REQUIRE(run.has_value());
    REQUIRE(run->has_value());
    CHECK((*run)->state == run_state::running);
    auto tasks = f.tasks(second);
    CHECK(tasks["a"].state == task_state::queued);
    CHECK(tasks["a"].try_number == 0);
    CHECK(tasks["a"].lease_owner == std::nullopt);
    CHECK(tasks["b"].state == task_state::pending);
    CHECK(f.wait(second).state == run_state::success);
    CHECK(f.wait(first).state == run_state::success);
    CHECK(f.script().max_concurrent() == 1);
    auto a = f.script().attempts_of("a");
    auto lng = f.script().attempts_of("long");
    REQUIRE(a.size() == 1);
    REQUIRE(lng.size() == 1);
    CHECK(a[0].started >= lng[0].ended);
}

TEST_CASE("a started creation that created nothing gives its worker and run slot back",
          "[engine][create]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
workers: 1
jobs:
  keyed:
    max_active_runs: 1
    tasks:
      t: {type: noop}
)");
    f.start();
    scheduler::trigger_request keyed;
    keyed.job = "keyed";
    keyed.idempotency_key = "k";
    auto first = f.engine().trigger(keyed);
    REQUIRE(first.has_value());
    CHECK(f.wait(first->run).state == run_state::success);
    // The same key again, five times: each creation reserved the only worker and the job's only
    // run slot before the store answered that the key was taken.
    for (int i = 0; i < 5; ++i) {
        auto again = f.engine().trigger(keyed);
        REQUIRE(again.has_value());
        CHECK_FALSE(again->created);
        CHECK(again->run == first->run);
    }
    // Had one of them kept its reservation, this run would wait for ever.
    core::run_id other = f.trigger("keyed");
    CHECK(f.wait(other, 5s).state == run_state::success);
    CHECK(f.script().attempts().size() == 2);
}

TEMPLATE_TEST_CASE("a run created started and cut off by a crash is interrupted, not failed",
                   "[engine][create][recovery]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  one:
    tasks:
      t: {type: noop}
)");
    f.script().set("t", {fake_step::hang(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("one");
    REQUIRE(test::engine_fixture::eventually([&] {
        return f.script().running() == 1 && f.tasks(run)["t"].state == task_state::running;
    }));
    f.crash();
    f.start();
    CHECK(f.wait(run).state == run_state::success);
    auto task = f.tasks(run)["t"];
    CHECK(task.interruptions == 1);
    CHECK(task.try_number == 2);
    CHECK(task.max_tries == 1);
    CHECK(f.script().attempts_of("t").size() == 2);
}
