// The run_store conformance suite, transition batches: fused statements, many same-shaped
// transitions in one batch, the attempt history and a running attempt's metrics.

// GCC 12 reports the epochs of transition variants moved by an inlined vector reallocation as
// maybe uninitialized (they have initializers: a known -O2 false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "store/open_store.hpp"
#include "store/postgres_store.hpp"
#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::run_state;
using scheduler::task_state;

// The engine submits a ready task's queueing, lease and start back to back (and an attempt's end
// with its lease release); the stores may fuse them into fewer statements, with the same result
// and the same fences as one statement each.
STORE_TEST("a task made ready and started in one batch keeps every fence", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "fuse", {"a", "b"})));
    auto tasks = ok(store->list_task_instances(run.id));
    const auto a = tasks[0].id;
    const auto b = tasks[1].id;
    auto start = [](core::task_instance_id id, std::int64_t epoch, int try_number) {
        auto t = task_move(id, task_state::queued, epoch + 1, task_state::running, at(11));
        t.try_number = try_number;
        return t;
    };
    scheduler::new_event e;
    e.at = at(10);
    e.kind = "task.state";
    e.actor = "test";
    CHECK(apply(*store, {task_move(a, task_state::pending, 0, task_state::queued, at(10)), e,
                         scheduler::lease_acquire{a, 0, "node-a", at(100), at(10)}, start(a, 0, 1),
                         e}) == std::vector{applied, applied, applied, applied, applied});
    auto ta = ok(store->get_task_instance(a));
    CHECK(ta->state == task_state::running);
    CHECK(ta->queued_at == at(10));
    CHECK(ta->started_at == at(11));
    CHECK(ta->try_number == 1);
    CHECK(ta->lease_epoch == 1);
    CHECK(ta->lease_owner == "node-a");
    CHECK(ta->lease_expires_at == at(100));

    // b's lease is held by a live peer: none of the three applies, and b stays pending.
    CHECK(apply(*store, {scheduler::lease_acquire{b, 0, "node-b", at(500), at(10)}}) ==
          std::vector{applied});
    CHECK(apply(*store, {task_move(b, task_state::pending, 1, task_state::queued, at(12)),
                         scheduler::lease_acquire{b, 1, "node-a", at(100), at(12)},
                         start(b, 1, 1)}) == std::vector{conflict, conflict, conflict});
    CHECK(ok(store->get_task_instance(b))->state == task_state::pending);

    // An end and its release: applied together; a stale epoch applies neither.
    auto end = task_move(a, task_state::running, 1, task_state::success, at(20));
    auto stale = task_move(a, task_state::running, 0, task_state::success, at(20));
    CHECK(apply(*store, {stale, scheduler::lease_release{a, 0, "node-a"}}) ==
          std::vector{conflict, conflict});
    CHECK(apply(*store, {end, scheduler::lease_release{a, 1, "node-a"}}) ==
          std::vector{applied, applied});
    ta = ok(store->get_task_instance(a));
    CHECK(ta->state == task_state::success);
    CHECK_FALSE(ta->lease_owner);
}

// Interrupted attempts (docs/configuration.md#interruptions) are counted on the task row by the
// transition that ends them, through every statement shape an end takes, and each kept try
// names the process that ran it: the one given, or the row's lease owner (a restarted daemon
// keeping the try of one that died).
STORE_TEST("interrupted attempts are counted, and kept tries name their node", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "interrupts", {"a"})));
    const auto a = ok(store->list_task_instances(run.id))[0].id;
    CHECK(ok(store->get_task_instance(a))->interruptions == 0);
    auto start = [&](std::int64_t epoch, int try_number, const std::string& node, int second) {
        auto s = task_move(a, task_state::queued, epoch + 1, task_state::running, at(second));
        s.try_number = try_number;
        return std::vector<scheduler::transition>{
            scheduler::lease_acquire{a, epoch, node, at(second + 5), at(second)}, s};
    };
    auto interrupted = [&](std::int64_t epoch, int second) {
        auto end = task_move(a, task_state::running, epoch, task_state::up_for_retry, at(second));
        end.error_cls = core::error_class::transient;
        end.error_message = "interrupted";
        end.interrupted = true;
        return end;
    };
    auto requeue = [&](std::int64_t epoch, int second) {
        return task_move(a, task_state::up_for_retry, epoch, task_state::queued, at(second));
    };
    CHECK(apply(*store, {task_move(a, task_state::pending, 0, task_state::queued, at(10))}) ==
          std::vector{applied});
    // Try 1 on node-a; node-a dies. The next process finds it running and keeps it: the lease
    // (and so node-a) stays on the row.
    CHECK(apply(*store, start(0, 1, "node-a", 11)) == std::vector{applied, applied});
    CHECK(apply(*store, {interrupted(1, 30),
                         scheduler::attempt_archive{a, 1, task_state::up_for_retry, at(30)}}) ==
          std::vector{applied, applied});
    CHECK(ok(store->get_task_instance(a))->interruptions == 1);
    // Try 2 on node-b, which takes the expired lease; killed at its shutdown: the end and the
    // release are one statement, and the archive names node-b.
    CHECK(apply(*store, {requeue(1, 31)}) == std::vector{applied});
    CHECK(apply(*store, start(1, 2, "node-b", 32)) == std::vector{applied, applied});
    CHECK(apply(*store, {interrupted(2, 33), scheduler::lease_release{a, 2, "node-b"},
                         scheduler::attempt_archive{a, 2, task_state::up_for_retry, at(33),
                                                    std::string("node-b")}}) ==
          std::vector{applied, applied, applied});
    // A fenced-out interruption counts nothing.
    CHECK(apply(*store, {interrupted(1, 34)}) == std::vector{conflict});
    // Try 3 fails the ordinary way: the count stays.
    CHECK(apply(*store, {requeue(2, 35)}) == std::vector{applied});
    CHECK(apply(*store, start(2, 3, "node-b", 36)) == std::vector{applied, applied});
    auto failed = task_move(a, task_state::running, 3, task_state::failed, at(37));
    failed.error_message = "exit 1";
    CHECK(apply(*store, {failed, scheduler::lease_release{a, 3, "node-b"}}) ==
          std::vector{applied, applied});

    auto ta = ok(store->get_task_instance(a));
    CHECK(ta->interruptions == 2);
    CHECK(ta->try_number == 3);
    CHECK(ta->state == task_state::failed);
    auto history = ok(store->list_task_attempts(run.id));
    REQUIRE(history.size() == 2);
    CHECK(history[0].node == "node-a");
    CHECK(history[1].node == "node-b");
    CHECK(history[1].error_message == "interrupted");
}

// A retried attempt is copied into the history before the next try overwrites the task row:
// its times, error and metrics as they were, in the same commit as its end.
STORE_TEST("an attempt archived at its end keeps its times, error and metrics per try", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "history", {"a", "b"})));
    auto tasks = ok(store->list_task_instances(run.id));
    const auto a = tasks[0].id;
    auto start = [&](std::int64_t epoch, int try_number, int second) {
        auto s = task_move(a, task_state::queued, epoch + 1, task_state::running, at(second));
        s.try_number = try_number;
        return std::vector<scheduler::transition>{
            scheduler::lease_acquire{a, epoch, "node-a", at(1000), at(second)}, s};
    };
    auto fail = [&](std::int64_t epoch, task_state to, int second, std::string message) {
        auto end = task_move(a, task_state::running, epoch, to, at(second));
        end.error_cls = core::error_class::transient;
        end.error_message = std::move(message);
        end.metrics_json = R"({"rows": )" + std::to_string(second) + "}";
        return end;
    };
    CHECK(apply(*store, {task_move(a, task_state::pending, 0, task_state::queued, at(10))}) ==
          std::vector{applied});
    CHECK(apply(*store, start(0, 1, 11)) == std::vector{applied, applied});
    CHECK(apply(*store, {fail(1, task_state::up_for_retry, 12, "connection lost"),
                         scheduler::lease_release{a, 1, "node-a"},
                         scheduler::attempt_archive{a, 1, task_state::up_for_retry, at(12)}}) ==
          std::vector{applied, applied, applied});
    CHECK(apply(*store, {task_move(a, task_state::up_for_retry, 1, task_state::queued, at(13))}) ==
          std::vector{applied});
    CHECK(apply(*store, start(1, 2, 14)) == std::vector{applied, applied});
    // Archiving try 1 again (a replayed batch) keeps what was first written.
    CHECK(apply(*store, {fail(2, task_state::failed, 15, "deadlock detected"),
                         scheduler::lease_release{a, 2, "node-a"},
                         scheduler::attempt_archive{a, 1, task_state::failed, at(99)}}) ==
          std::vector{applied, applied, applied});

    auto history = ok(store->list_task_attempts(run.id));
    REQUIRE(history.size() == 1);
    CHECK(history[0].task_instance == a);
    CHECK(history[0].try_number == 1);
    CHECK(history[0].state == task_state::up_for_retry);
    CHECK(history[0].started_at == at(11));
    CHECK(history[0].finished_at == at(12));
    CHECK(history[0].error_cls == core::error_class::transient);
    CHECK(history[0].error_message == "connection lost");
    CHECK(nlohmann::json::parse(history[0].metrics_json) == nlohmann::json{{"rows", 12}});
    // The newest try stays on the task row.
    auto ta = ok(store->get_task_instance(a));
    CHECK(ta->try_number == 2);
    CHECK(ta->started_at == at(14));
    CHECK(ta->error_message == "deadlock detected");

    // A failed task rerun: its last try joins the history; other runs' tries are not listed.
    CHECK(apply(*store, {scheduler::attempt_archive{a, 2, task_state::failed, at(15)},
                         task_move(a, task_state::failed, 2, task_state::pending, at(16))}) ==
          std::vector{applied, applied});
    auto other = ok(store->create_run(make_run("etl", "history-2", {"a"})));
    CHECK(ok(store->list_task_attempts(other.id)).empty());
    history = ok(store->list_task_attempts(run.id));
    REQUIRE(history.size() == 2);
    CHECK(history[1].try_number == 2);
    CHECK(history[1].state == task_state::failed);
    CHECK(history[1].started_at == at(14));
    CHECK(history[1].finished_at == at(15));
    CHECK(history[1].error_message == "deadlock detected");
}

// A running attempt's progress is written to its task row while it runs; once the attempt
// ended (or another try runs) a late write changes nothing.
STORE_TEST("running metrics apply only to the running try", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "live", {"a"})));
    const auto a = ok(store->list_task_instances(run.id))[0].id;
    auto start = task_move(a, task_state::queued, 1, task_state::running, at(11));
    start.try_number = 1;
    CHECK(apply(*store, {task_move(a, task_state::pending, 0, task_state::queued, at(10)),
                         scheduler::lease_acquire{a, 0, "node-a", at(100), at(10)}, start}) ==
          std::vector{applied, applied, applied});
    REQUIRE(store->put_running_metrics(a, 1, R"({"rows_written": 100})").has_value());
    CHECK(nlohmann::json::parse(ok(store->get_task_instance(a))->metrics_json)["rows_written"] ==
          100);
    REQUIRE(store->put_running_metrics(a, 2, R"({"rows_written": 7})").has_value());  // not its try
    CHECK(nlohmann::json::parse(ok(store->get_task_instance(a))->metrics_json)["rows_written"] ==
          100);
    auto end = task_move(a, task_state::running, 1, task_state::success, at(12));
    end.metrics_json = R"({"rows_written": 450})";
    CHECK(apply(*store, {end}) == std::vector{applied});
    REQUIRE(store->put_running_metrics(a, 1, R"({"rows_written": 300})").has_value());  // late
    CHECK(nlohmann::json::parse(ok(store->get_task_instance(a))->metrics_json)["rows_written"] ==
          450);
}

// A group commit carries many single-row updates of the same shape; a store may run them as one
// multi-row statement, but every transition keeps its own fence and outcome, and transitions
// about one row apply in batch order.
STORE_TEST("many transitions in one batch keep per-row fences and per-row order", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "many", {"a", "b", "c", "d"})));
    auto second = ok(store->create_run(make_run("etl", "many-2", {"x"})));
    auto tasks = ok(store->list_task_instances(run.id));
    const auto a = tasks[0].id;
    const auto b = tasks[1].id;
    const auto c = tasks[2].id;
    const auto d = tasks[3].id;
    auto canceled = [](core::task_instance_id id, task_state from, core::time_point when) {
        auto t = task_move(id, from, 0, task_state::canceled, when);
        t.error_message = "canceled in the same batch";
        return t;
    };
    CHECK(
        apply(*store,
              {
                  task_move(a, task_state::pending, 0, task_state::queued, at(1)),
                  task_move(b, task_state::pending, 0, task_state::queued, at(1)),
                  task_move(c, task_state::pending, 5, task_state::queued, at(1)),   // stale
                  task_move(d, task_state::running, 0, task_state::success, at(1)),  // wrong
                  canceled(a, task_state::queued, at(2)),  // needs the first one applied
                  canceled(b, task_state::queued, at(2)),
                  canceled(d, task_state::queued, at(2)),  // d is pending: wrong state
                  scheduler::run_transition{run.id, run_state::queued, run_state::running, at(1)},
                  scheduler::run_transition{run.id, run_state::running, run_state::canceled, at(3)},
                  scheduler::run_transition{second.id, run_state::running, run_state::success,
                                            at(3)},  // still queued
              }) == std::vector{applied, applied, conflict, conflict, applied, applied, conflict,
                                applied, applied, conflict});
    CHECK(ok(store->get_task_instance(a))->state == task_state::canceled);
    CHECK(ok(store->get_task_instance(a))->queued_at == at(1));
    CHECK(ok(store->get_task_instance(a))->error_message == "canceled in the same batch");
    CHECK(ok(store->get_task_instance(b))->state == task_state::canceled);
    CHECK(ok(store->get_task_instance(c))->state == task_state::pending);
    CHECK(ok(store->get_task_instance(d))->state == task_state::pending);
    auto r = ok(store->get_run(run.id));
    CHECK(r->state == run_state::canceled);
    CHECK(r->started_at == at(1));
    CHECK(r->finished_at == at(3));
    CHECK(ok(store->get_run(second.id))->state == run_state::queued);

    // Forty runs started in one batch, every other one fenced out by a stale epoch: the engine's
    // eager start (ready + lease + start) per task, as a group commit carries them.
    std::vector<core::task_instance_id> ids;
    for (int i = 0; i < 40; ++i) {
        auto created = ok(store->create_run(make_run("etl", "bulk-" + std::to_string(i), {"t"})));
        ids.push_back(ok(store->list_task_instances(created.id))[0].id);
    }
    std::vector<scheduler::transition> batch;
    std::vector<scheduler::transition_outcome> expected;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::int64_t epoch = i % 2 == 0 ? 0 : 3;
        auto start = task_move(ids[i], task_state::queued, epoch + 1, task_state::running, at(5));
        start.try_number = 1;
        batch.push_back(task_move(ids[i], task_state::pending, epoch, task_state::queued, at(4)));
        batch.push_back(scheduler::lease_acquire{ids[i], epoch, "node-a", at(100), at(4)});
        batch.push_back(start);
        expected.insert(expected.end(), 3, i % 2 == 0 ? applied : conflict);
    }
    CHECK(apply(*store, batch) == expected);
    batch.clear();
    expected.clear();
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto t = ok(store->get_task_instance(ids[i]));
        CHECK(t->state == (i % 2 == 0 ? task_state::running : task_state::pending));
        CHECK(t->lease_epoch == (i % 2 == 0 ? 1 : 0));
        // Ends with their releases; the pending ones' ends are fenced out by their state.
        batch.push_back(task_move(ids[i], task_state::running, 1, task_state::success, at(6)));
        batch.push_back(scheduler::lease_release{ids[i], 1, "node-a"});
        expected.insert(expected.end(), 2, i % 2 == 0 ? applied : conflict);
    }
    CHECK(apply(*store, batch) == expected);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto t = ok(store->get_task_instance(ids[i]));
        CHECK(t->state == (i % 2 == 0 ? task_state::success : task_state::pending));
        CHECK(t->finished_at == (i % 2 == 0 ? std::optional(at(6)) : std::nullopt));
        CHECK_FALSE(t->lease_owner);
    }
}

}  // namespace
}  // namespace sluice::test
