// Cancel, task and job timeouts, reconciliation after an abrupt stop, graceful shutdown.

#include <catch2/catch.hpp>

#include "tests/component/scheduler/engine_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::run_state;
using scheduler::task_state;
using test::fake_step;

namespace {

const char* chain_yaml = R"(
jobs:
  single:
    tasks:
      only: {type: noop}
  chain:
    tasks:
      a: {type: noop}
      b: {type: noop, depends_on: [a], retries: {max_attempts: 2, delay: 10ms}}
      c: {type: noop, depends_on: [b]}
      side: {type: noop}
)";

}  // namespace

TEST_CASE("cancel stops running attempts and cancels pending tasks", "[engine][cancel]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), chain_yaml);
    f.script().set("a", {fake_step::hang()});
    f.start();
    core::run_id run = f.trigger("chain");
    REQUIRE(test::engine_fixture::eventually(
        [&] { return f.script().running() == 1 && f.script().attempts_of("side").size() == 1; }));
    REQUIRE(f.engine().cancel(run).value());
    CHECK(f.wait(run).state == run_state::canceled);
    auto tasks = f.tasks(run);
    CHECK(tasks["a"].state == task_state::canceled);
    CHECK(tasks["b"].state == task_state::canceled);
    CHECK(tasks["c"].state == task_state::canceled);
    CHECK(tasks["side"].state == task_state::success);
    CHECK(f.script().attempts_of("a").at(0).stop_reason == "canceled");
    CHECK_FALSE(f.engine().cancel(run).value());  // already finished
    CHECK(f.events("run.cancel").size() == 1);
}

TEMPLATE_TEST_CASE("task timeout stops the attempt and retries only with retry_on_timeout",
                   "[engine][timeout]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  timeouts:
    tasks:
      strict: {type: noop, timeout: 150ms, retries: {max_attempts: 3, delay: 10ms}}
      lenient:
        type: noop
        timeout: 150ms
        retry_on_timeout: true
        retries: {max_attempts: 2, delay: 10ms}
)");
    f.script().set("strict", {fake_step::hang()});
    f.script().set("lenient", {fake_step::hang(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("timeouts");
    CHECK(f.wait(run).state == run_state::failed);
    auto tasks = f.tasks(run);
    CHECK(tasks["strict"].state == task_state::failed);
    CHECK(tasks["strict"].try_number == 1);
    REQUIRE(tasks["strict"].error_message.has_value());
    CHECK_THAT(*tasks["strict"].error_message, Catch::Contains("timed out after 150ms"));
    CHECK(tasks["lenient"].state == task_state::success);
    CHECK(tasks["lenient"].try_number == 2);
    auto strict = f.script().attempts_of("strict");
    REQUIRE(strict.size() == 1);
    CHECK(strict[0].stop_reason == "timed_out");
    CHECK(strict[0].had_deadline);
}

TEST_CASE("job timeout times out the whole run", "[engine][timeout]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  bounded:
    timeout: 300ms
    tasks:
      a: {type: noop}
      b: {type: noop, depends_on: [a]}
      c: {type: noop, depends_on: [b]}
)");
    f.script().set("b", {fake_step::hang()});
    f.start();
    core::run_id run = f.trigger("bounded");
    auto record = f.wait(run);
    CHECK(record.state == run_state::timed_out);
    auto tasks = f.tasks(run);
    CHECK(tasks["a"].state == task_state::success);
    CHECK(tasks["b"].state == task_state::canceled);
    CHECK(tasks["c"].state == task_state::canceled);
    CHECK(f.script().attempts_of("b").at(0).stop_reason == "timed_out");
}

TEMPLATE_TEST_CASE("reconciliation after an abrupt stop retries only the in-flight attempt",
                   "[engine][recovery]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), chain_yaml);
    f.script().set("b", {fake_step::hang(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("chain");
    // `side` runs beside `b`: wait until it finished too, or the crash may interrupt it (its
    // only try) and the run fails for a reason this test is not about.
    REQUIRE(test::engine_fixture::eventually([&] {
        auto tasks = f.tasks(run);
        return f.script().running() == 1 && tasks["b"].state == task_state::running &&
               tasks["side"].state == task_state::success;
    }));
    f.crash();
    f.start();
    auto record = f.wait(run);
    CHECK(record.state == run_state::success);
    auto tasks = f.tasks(run);
    CHECK(tasks["a"].try_number == 1);
    CHECK(tasks["b"].try_number == 2);
    CHECK(tasks["c"].try_number == 1);
    CHECK(f.script().attempts_of("a").size() == 1);  // finished tasks never rerun
    CHECK(f.script().attempts_of("side").size() == 1);
    CHECK(f.script().attempts_of("b").size() == 2);
    CHECK(f.script().attempts_of("c").size() == 1);
    for (const auto& [name, t] : tasks) {
        INFO(name);
        CHECK(t.state == task_state::success);
    }
}

TEMPLATE_TEST_CASE("another process's live lease is left until it expires, then taken over",
                   "[engine][recovery]", test::sqlite_database, test::postgres_database) {
    TestType db;
    auto options = test::engine_fixture::default_options();
    options.lease_duration = 5s;
    options.heartbeat_interval = 10s;  // the first process dies before it renews
    test::engine_fixture f(db.url(), chain_yaml, options);
    f.script().set("b", {fake_step::hang(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("chain");
    // The store says running before the runner thread reaches the script: wait for both, or a
    // loaded machine crashes the first process before its attempt of b began.
    REQUIRE(test::engine_fixture::eventually([&] {
        auto tasks = f.tasks(run);
        return tasks["b"].state == task_state::running &&
               tasks["side"].state == task_state::success && f.script().running() == 1;
    }));
    f.crash();
    const auto lease = f.tasks(run)["b"].lease_expires_at;
    REQUIRE(lease.has_value());
    REQUIRE(*lease > std::chrono::system_clock::now() + 1s);
    // Another process: it cannot prove the first one gone, so it waits out the lease.
    f.options().instance_id = "another-process";
    int asked = 0;
    f.options().lease_owner_gone = [&](std::string_view owner, std::string_view) {
        CHECK(owner == "test-instance");
        ++asked;
        return false;
    };
    f.start();
    // Not driven here until the lease expires, so wait() would answer "running" at once.
    CHECK(test::engine_fixture::eventually(
        [&] { return f.store().get_run(run).value()->state == run_state::success; }, 20s));
    CHECK(asked >= 1);
    CHECK(f.tasks(run)["b"].try_number == 2);
    CHECK(f.script().attempts_of("b").size() == 2);
    // Not before the lease ran out.
    CHECK(std::chrono::system_clock::now() >= *lease);
}

TEMPLATE_TEST_CASE("a lease whose owner is proven gone is taken over at once", "[engine][recovery]",
                   test::sqlite_database, test::postgres_database) {
    TestType db;
    auto options = test::engine_fixture::default_options();
    options.lease_duration = std::chrono::hours(1);
    test::engine_fixture f(db.url(), chain_yaml, options);
    f.script().set("b", {fake_step::hang(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("chain");
    // The store says running once the lease committed, a moment before the attempt executes:
    // wait for the attempt itself, or a crash in between leaves no first try to count.
    REQUIRE(test::engine_fixture::eventually([&] {
        auto tasks = f.tasks(run);
        return f.script().running() == 1 && tasks["b"].state == task_state::running &&
               tasks["side"].state == task_state::success;
    }));
    f.crash();
    f.options().instance_id = "another-process";
    f.options().lease_owner_gone = [](std::string_view, std::string_view) { return true; };
    f.start();
    CHECK(f.wait(run).state == run_state::success);
    CHECK(f.tasks(run)["b"].try_number == 2);
    CHECK(f.script().attempts_of("b").size() == 2);
}

namespace {

// Triggers `chain`, kills the engine while `a`'s first try hangs (once `side` succeeded), and
// starts it again; `a`'s second try succeeds.
core::run_id crash_while_a_runs(test::engine_fixture& f) {
    f.script().set("a", {fake_step::hang(), fake_step::ok()});
    f.start();
    const core::run_id run = f.trigger("chain");
    REQUIRE(test::engine_fixture::eventually([&] {
        return f.tasks(run)["a"].state == task_state::running &&
               f.tasks(run)["side"].state == task_state::success;
    }));
    f.crash();
    f.start();
    return run;
}

}  // namespace

// Interruptions are not failures (docs/configuration.md#interruptions): `a` has no retries, and
// its attempt cut off by a crash runs again at the next start without using one.
TEST_CASE("reconciliation retries an interrupted attempt without using a try",
          "[engine][recovery]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), chain_yaml);
    const core::run_id run = crash_while_a_runs(f);
    CHECK(f.wait(run).state == run_state::success);
    auto tasks = f.tasks(run);
    CHECK(tasks["a"].state == task_state::success);
    CHECK(tasks["a"].try_number == 2);
    CHECK(tasks["a"].max_tries == 1);
    CHECK(tasks["a"].interruptions == 1);
    CHECK(f.script().attempts_of("a").size() == 2);
    CHECK(f.script().attempts_of("side").size() == 1);
}

// ... unless the task says it must never run twice, or it was interrupted too often.
TEST_CASE(
    "reconciliation fails an interrupted attempt with on_interrupt: fail or past "
    "max_interruptions",
    "[engine][recovery]") {
    for (const std::string setting : {"on_interrupt: fail", "max_interruptions: 0"}) {
        INFO(setting);
        test::sqlite_database db;
        std::string yaml = chain_yaml;
        const std::string plain_a = "a: {type: noop}";
        yaml.replace(yaml.find(plain_a), plain_a.size(), "a: {type: noop, " + setting + "}");
        test::engine_fixture f(db.url(), yaml);
        const core::run_id run = crash_while_a_runs(f);
        CHECK(f.wait(run).state == run_state::failed);
        auto tasks = f.tasks(run);
        CHECK(tasks["a"].state == task_state::failed);
        CHECK(tasks["a"].interruptions == 1);
        REQUIRE(tasks["a"].error_message.has_value());
        CHECK_THAT(*tasks["a"].error_message,
                   Catch::Contains("interrupted") &&
                       Catch::Contains(setting.starts_with("on_") ? "on_interrupt: fail"
                                                                  : "max_interruptions (0)"));
        CHECK(tasks["b"].state == task_state::upstream_failed);
        CHECK(f.script().attempts_of("a").size() == 1);
    }
}

TEST_CASE("shutdown lets attempts finish within the grace period", "[engine][shutdown]") {
    test::sqlite_database db;
    auto options = test::engine_fixture::default_options();
    options.shutdown_grace = 2s;
    test::engine_fixture f(db.url(), chain_yaml, options);
    f.script().set("a", {fake_step::sleep_for(200ms)});
    f.start();
    core::run_id run = f.trigger("chain");
    REQUIRE(test::engine_fixture::eventually([&] { return f.script().running() >= 1; }));
    auto began = std::chrono::steady_clock::now();
    f.stop();
    CHECK(std::chrono::steady_clock::now() - began < 1500ms);
    f.start();
    auto tasks = f.tasks(run);
    CHECK(tasks["a"].state == task_state::success);  // finished during the grace period
    CHECK(tasks["a"].try_number == 1);
    CHECK(f.wait(run).state == run_state::success);  // the rest ran after the restart
    CHECK(f.script().attempts_of("a").size() == 1);
}

TEST_CASE("shutdown stops attempts after the grace period and the next start retries them",
          "[engine][shutdown]") {
    test::sqlite_database db;
    auto options = test::engine_fixture::default_options();
    options.shutdown_grace = 200ms;
    test::engine_fixture f(db.url(), chain_yaml, options);
    f.script().set("b", {fake_step::hang(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("chain");
    REQUIRE(test::engine_fixture::eventually(
        [&] { return f.tasks(run)["b"].state == task_state::running; }));
    f.stop();
    auto b = f.script().attempts_of("b");
    REQUIRE(b.size() == 1);
    CHECK(b[0].stop_reason == "shutdown");
    auto interrupted = f.tasks(run)["b"];
    CHECK(interrupted.state == task_state::up_for_retry);
    CHECK(interrupted.next_attempt_at.has_value());
    REQUIRE(interrupted.error_message.has_value());
    CHECK_THAT(*interrupted.error_message, Catch::Contains("interrupted by shutdown"));
    CHECK(f.store().get_run(run).value()->state == run_state::running);
    f.start();
    auto tasks = f.tasks(run);
    CHECK(f.wait(run).state == run_state::success);
    tasks = f.tasks(run);
    CHECK(tasks["b"].try_number == 2);
    CHECK(f.script().attempts_of("a").size() == 1);
}

TEST_CASE("shutdown does not fail a task that has no tries left", "[engine][shutdown]") {
    test::sqlite_database db;
    auto options = test::engine_fixture::default_options();
    options.shutdown_grace = 100ms;
    test::engine_fixture f(db.url(), chain_yaml, options);
    f.script().set("only", {fake_step::hang(), fake_step::ok()});
    f.start();
    core::run_id run = f.trigger("single");
    REQUIRE(test::engine_fixture::eventually(
        [&] { return f.tasks(run)["only"].state == task_state::running; }));
    f.stop();
    CHECK(f.tasks(run)["only"].state == task_state::up_for_retry);
    f.start();
    CHECK(f.wait(run).state == run_state::success);
    CHECK(f.tasks(run)["only"].try_number == 2);
}

TEST_CASE("cancel reaches runs waiting for a slot and tasks waiting for a retry",
          "[engine][cancel]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  one_at_a_time:
    max_active_runs: 1
    tasks:
      t: {type: noop, retries: {max_attempts: 3, delay: 1h}}
)");
    f.script().set("t", {fake_step::transient()});
    f.start();
    core::run_id retrying = f.trigger("one_at_a_time");
    core::run_id waiting = f.trigger("one_at_a_time");
    REQUIRE(test::engine_fixture::eventually(
        [&] { return f.tasks(retrying)["t"].state == task_state::up_for_retry; }));
    CHECK(f.store().get_run(waiting).value()->state == run_state::queued);
    REQUIRE(f.engine().cancel(waiting).value());
    CHECK(f.wait(waiting).state == run_state::canceled);
    CHECK(f.tasks(waiting)["t"].state == task_state::canceled);
    REQUIRE(f.engine().cancel(retrying).value());
    CHECK(f.wait(retrying).state == run_state::canceled);
    CHECK(f.tasks(retrying)["t"].state == task_state::canceled);
    CHECK(f.script().attempts().size() == 1);
}
