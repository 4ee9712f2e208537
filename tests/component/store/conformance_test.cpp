// The run_store conformance suite, part 1: schema, jobs, runs, transitions and leases.

#include "tests/component/store/conformance.hpp"

#include <thread>

namespace sluice::test {
namespace {

using scheduler::run_state;
using scheduler::task_state;

STORE_TEST("migrations are versioned and re-running them is a no-op", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    int version = ok(store->schema_version());
    CHECK(version >= 1);
    ok(store->migrate());
    ok(store->migrate());
    CHECK(ok(store->schema_version()) == version);
    // A second store on the same database (another instance starting) migrates nothing either.
    auto second = open_migrated(db.url());
    CHECK(ok(second->schema_version()) == version);
}

STORE_TEST("create_run is idempotent on run_key and creates its task instances", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto first = ok(store->create_run(make_run("etl", "manual:etl:k1")));
    CHECK(first.created);
    auto again = ok(store->create_run(make_run("etl", "manual:etl:k1", {"other"})));
    CHECK_FALSE(again.created);
    CHECK(again.id == first.id);

    auto run = ok(store->get_run(first.id));
    REQUIRE(run);
    CHECK(run->job == "etl");
    CHECK(run->run_key == "manual:etl:k1");
    CHECK(run->state == run_state::queued);
    CHECK(run->trigger == scheduler::trigger_kind::manual);
    CHECK(run->created_at == at(0));
    CHECK_FALSE(run->started_at);

    auto tasks = ok(store->list_task_instances(first.id));
    REQUIRE(tasks.size() == 2);  // the second create wrote nothing
    CHECK(tasks[0].task == "extract");
    CHECK(tasks[1].task == "load");
    for (const auto& t : tasks) {
        CHECK(t.state == task_state::pending);
        CHECK(t.max_tries == 3);
        CHECK(t.try_number == 0);
        CHECK(t.lease_epoch == 0);
        CHECK(t.run == first.id);
        CHECK(t.job == "etl");
    }
    CHECK_FALSE(ok(store->get_run(core::run_id{first.id.value + 1000})));
}

STORE_TEST("create_run from 8 threads with one run_key creates exactly one run", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    constexpr int threads = 8;
    std::vector<core::result<scheduler::create_run_result>> results(
        threads, core::error::permanent("not run"));
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&, i] {
            results[i] = store->create_run(make_run("etl", "sched:etl:2026-01-01T00:00:00Z"));
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    int created = 0;
    for (auto& r : results) {
        REQUIRE(r.has_value());
        created += r->created ? 1 : 0;
        CHECK(r->id == results[0]->id);
    }
    CHECK(created == 1);
    CHECK(ok(store->list_task_instances(results[0]->id)).size() == 2);
}

STORE_TEST("scheduled runs advance the job's last tick and upsert_job keeps a stored pause",
           "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto job = ok(store->upsert_job("hourly", "hash1", false));
    CHECK_FALSE(job.paused);
    CHECK_FALSE(job.last_scheduled_tick);

    CHECK(ok(store->set_paused("hourly", true)));
    job = ok(store->upsert_job("hourly", "hash2", false));
    CHECK(job.paused);  // the operator's pause survives a restart with paused: false in config
    CHECK(job.definition_hash == "hash2");
    CHECK_FALSE(ok(store->set_paused("missing", true)));
    CHECK(ok(store->upsert_job("new", "h", true)).paused);

    auto tick = [&](std::int64_t s) {
        auto run = make_run("hourly", "sched:hourly:" + std::to_string(s));
        run.trigger = scheduler::trigger_kind::scheduled;
        run.logical_time = at(s);
        ok(store->create_run(run));
    };
    tick(3600);
    tick(7200);
    tick(0);  // an older tick (catch-up order) never moves the mark back
    auto stored = ok(store->get_job("hourly"));
    REQUIRE(stored);
    CHECK(stored->last_scheduled_tick == at(7200));
    auto jobs = ok(store->list_jobs());
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].name == "hourly");
    CHECK_FALSE(ok(store->get_job("nope")));
}

STORE_TEST("transitions are fenced on state and lease epoch and commit as one batch", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k")));
    auto tasks = ok(store->list_task_instances(run.id));
    auto extract = tasks[0].id;
    auto load = tasks[1].id;

    auto outcomes = apply(
        *store, {
                    scheduler::run_transition{run.id, run_state::queued, run_state::running, at(1)},
                    task_move(extract, task_state::pending, 0, task_state::queued, at(1)),
                    // stale: load is pending, not queued
                    task_move(load, task_state::queued, 0, task_state::running, at(1)),
                });
    CHECK(outcomes == std::vector{applied, applied, conflict});

    auto r = ok(store->get_run(run.id));
    CHECK(r->state == run_state::running);
    CHECK(r->started_at == at(1));
    auto t = ok(store->get_task_instance(extract));
    CHECK(t->state == task_state::queued);
    CHECK(t->queued_at == at(1));
    CHECK(ok(store->get_task_instance(load))->state == task_state::pending);

    // Stale epoch: nothing changes.
    auto wrong_epoch = task_move(extract, task_state::queued, 7, task_state::running, at(2));
    CHECK(apply(*store, {wrong_epoch}) == std::vector{conflict});
    CHECK(ok(store->get_task_instance(extract))->state == task_state::queued);

    auto start = task_move(extract, task_state::queued, 0, task_state::running, at(2));
    start.try_number = 1;
    auto retry = task_move(extract, task_state::running, 0, task_state::up_for_retry, at(3));
    retry.error_cls = core::error_class::transient;
    retry.error_message = "connection reset";
    retry.next_attempt_at = at(13);
    retry.metrics_json = R"({"rows":5})";
    CHECK(apply(*store, {start, retry}) == std::vector{applied, applied});
    t = ok(store->get_task_instance(extract));
    CHECK(t->state == task_state::up_for_retry);
    CHECK(t->try_number == 1);
    CHECK(t->started_at == at(2));
    CHECK_FALSE(t->finished_at);
    CHECK(t->error_cls == core::error_class::transient);
    CHECK(t->error_message == "connection reset");
    CHECK(t->next_attempt_at == at(13));
    CHECK(t->metrics_json.find("\"rows\"") != std::string::npos);

    auto fail = task_move(extract, task_state::up_for_retry, 0, task_state::failed, at(4));
    fail.error_cls = core::error_class::permanent;
    CHECK(apply(*store, {fail}) == std::vector{applied});
    t = ok(store->get_task_instance(extract));
    CHECK(t->finished_at == at(4));
    CHECK(t->error_cls == core::error_class::permanent);
    CHECK(t->error_message == "connection reset");  // absent fields keep the stored value

    CHECK(apply(*store, {scheduler::run_transition{run.id, run_state::running, run_state::failed,
                                                   at(5)}}) == std::vector{applied});
    r = ok(store->get_run(run.id));
    CHECK(r->state == run_state::failed);
    CHECK(r->finished_at == at(5));
    CHECK(r->started_at == at(1));
    CHECK(ok(store->apply({})).empty());
}

STORE_TEST("a write the schema rejects fails permanently and leaves nothing behind", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    // A log for a task instance that does not exist violates a foreign key on both engines.
    std::vector<scheduler::log_line> lines{{at(1), "stdout", "a"}, {at(1), "stdout", "b"}};
    auto missing = store->append_task_log(core::task_instance_id{999999}, 1, lines);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().cls == core::error_class::permanent);
    CHECK(ok(store->read_task_log(core::task_instance_id{999999}, 0, 10)).empty());

    if (std::string_view(TestType::engine) == "postgresql") {
        // jsonb rejects malformed metrics: the whole batch rolls back, the valid first
        // transition included.
        auto run = ok(store->create_run(make_run("etl", "k")));
        auto extract = ok(store->list_task_instances(run.id))[0].id;
        auto queue = task_move(extract, task_state::pending, 0, task_state::queued, at(1));
        auto bad = task_move(extract, task_state::queued, 0, task_state::running, at(1));
        bad.metrics_json = "{not json";
        std::vector<scheduler::transition> batch{queue, bad};
        auto result = store->apply(batch);
        REQUIRE_FALSE(result.has_value());
        CHECK(result.error().cls == core::error_class::permanent);
        CHECK(ok(store->get_task_instance(extract))->state == task_state::pending);
    }
}

STORE_TEST("lease takeover bumps the epoch and fences the old owner", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k", {"only"})));
    auto id = ok(store->list_task_instances(run.id))[0].id;

    CHECK(apply(*store, {task_move(id, task_state::pending, 0, task_state::queued, at(0)),
                         scheduler::lease_acquire{id, 0, "node-a", at(30), at(0)}}) ==
          std::vector{applied, applied});
    auto t = ok(store->get_task_instance(id));
    CHECK(t->lease_epoch == 1);
    CHECK(t->lease_owner == "node-a");
    CHECK(t->lease_expires_at == at(30));

    // node-b cannot take a live lease.
    CHECK(apply(*store, {scheduler::lease_acquire{id, 1, "node-b", at(40), at(10)}}) ==
          std::vector{conflict});
    CHECK(apply(*store, {scheduler::lease_renew{id, 1, "node-a", at(60)}}) == std::vector{applied});
    // After expiry node-b takes over: epoch 2.
    CHECK(apply(*store, {scheduler::lease_acquire{id, 1, "node-b", at(120), at(61)}}) ==
          std::vector{applied});
    t = ok(store->get_task_instance(id));
    CHECK(t->lease_epoch == 2);
    CHECK(t->lease_owner == "node-b");

    // node-a, unaware, tries to start and to renew under epoch 1: fenced.
    CHECK(apply(*store, {task_move(id, task_state::queued, 1, task_state::running, at(62)),
                         scheduler::lease_renew{id, 1, "node-a", at(90)},
                         scheduler::lease_release{id, 1, "node-a"}}) ==
          std::vector{conflict, conflict, conflict});
    CHECK(ok(store->get_task_instance(id))->state == task_state::queued);

    CHECK(apply(*store, {task_move(id, task_state::queued, 2, task_state::running, at(62)),
                         scheduler::lease_release{id, 2, "node-b"}}) ==
          std::vector{applied, applied});
    t = ok(store->get_task_instance(id));
    CHECK(t->state == task_state::running);
    CHECK_FALSE(t->lease_owner);
    CHECK_FALSE(t->lease_expires_at);
    CHECK(t->lease_epoch == 2);  // released, but old writers stay fenced
    // A released lease can be taken right away.
    CHECK(apply(*store, {scheduler::lease_acquire{id, 2, "node-a", at(200), at(63)}}) ==
          std::vector{applied});
}

STORE_TEST("unfinished runs and task instances are listed for reconciliation", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto a = ok(store->create_run(make_run("etl", "a", {"t1", "t2"})));
    auto b = ok(store->create_run(make_run("etl", "b", {"t1"})));
    auto a_tasks = ok(store->list_task_instances(a.id));
    auto b_task = ok(store->list_task_instances(b.id))[0].id;
    apply(*store, {scheduler::run_transition{b.id, run_state::queued, run_state::running, at(1)},
                   task_move(b_task, task_state::pending, 0, task_state::skipped, at(1)),
                   scheduler::run_transition{b.id, run_state::running, run_state::success, at(1)},
                   task_move(a_tasks[0].id, task_state::pending, 0, task_state::queued, at(1)),
                   task_move(a_tasks[1].id, task_state::pending, 0, task_state::skipped, at(1))});
    auto runs = ok(store->list_unfinished_runs());
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].id == a.id);
    // Every task of the unfinished run, the finished one too; none of the finished run.
    auto tasks = ok(store->list_tasks_of_unfinished_runs());
    REQUIRE(tasks.size() == 2);
    CHECK(tasks[0].id == a_tasks[0].id);
    CHECK(tasks[0].state == task_state::queued);
    CHECK(tasks[1].id == a_tasks[1].id);
    CHECK(tasks[1].state == task_state::skipped);
}

}  // namespace
}  // namespace sluice::test
