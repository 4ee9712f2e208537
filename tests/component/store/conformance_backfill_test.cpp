// The run_store conformance suite, part 3: backfills (their rows, fenced steps that create a
// run in the same transaction, state changes, run counts) and runs by logical time.

#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::backfill_order;
using scheduler::backfill_state;
using scheduler::reprocess_mode;
using scheduler::run_state;

scheduler::new_backfill make_backfill(const std::string& job) {
    scheduler::new_backfill b;
    b.job = job;
    b.range_start = at(0);
    b.range_end = at(3600 * 24);
    b.order = backfill_order::newest_first;
    b.max_active_runs = 3;
    b.reprocess = reprocess_mode::failed;
    b.planned = 24;
    b.actor = "api:ops";
    b.created_at = at(5);
    return b;
}

scheduler::new_run backfill_run(core::backfill_id id, const std::string& job, std::int64_t hour) {
    const auto tick = std::chrono::floor<std::chrono::seconds>(at(3600 * hour));
    scheduler::new_run run = make_run(job, scheduler::backfill_run_key(id, tick), {"load"});
    run.trigger = scheduler::trigger_kind::backfill;
    run.logical_time = tick;
    run.data_interval_start = tick - std::chrono::hours(1);
    run.data_interval_end = tick;
    run.backfill = id;
    return run;
}

scheduler::backfill_step step_of(core::backfill_id id, std::int64_t expected, std::int64_t hour,
                                 std::optional<scheduler::new_run> run) {
    scheduler::backfill_step s;
    s.backfill = id;
    s.expected_steps = expected;
    s.cursor = at(3600 * hour);
    s.run = std::move(run);
    s.at = at(100 + expected);
    return s;
}

STORE_TEST("a backfill round-trips with its settings and starts running at step 0", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    CHECK(ok(store->schema_version()) >= 3);
    const auto id = ok(store->create_backfill(make_backfill("etl")));
    auto b = ok(store->get_backfill(id));
    REQUIRE(b);
    CHECK(b->id == id);
    CHECK(b->job == "etl");
    CHECK(b->range_start == at(0));
    CHECK(b->range_end == at(3600 * 24));
    CHECK(b->order == backfill_order::newest_first);
    CHECK(b->max_active_runs == 3);
    CHECK(b->reprocess == reprocess_mode::failed);
    CHECK(b->state == backfill_state::running);
    CHECK(b->planned == 24);
    CHECK(b->steps == 0);
    CHECK(b->skipped == 0);
    CHECK_FALSE(b->cursor);
    CHECK(b->actor == "api:ops");
    CHECK(b->created_at == at(5));
    CHECK(b->updated_at == at(5));
    CHECK(b->runs.created == 0);
    CHECK_FALSE(ok(store->get_backfill(core::backfill_id{id.value + 1000})));
}

STORE_TEST("a backfill step creates its run with the progress, fenced on the step count",
           "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    const auto id = ok(store->create_backfill(make_backfill("etl")));

    auto first = ok(store->apply_backfill_step(step_of(id, 0, 24, backfill_run(id, "etl", 24))));
    CHECK(first.applied);
    REQUIRE(first.run);
    CHECK(first.run->created);
    auto run = ok(store->get_run(first.run->id));
    REQUIRE(run);
    CHECK(run->trigger == scheduler::trigger_kind::backfill);
    REQUIRE(run->backfill);
    CHECK(*run->backfill == id);
    CHECK(run->logical_time == at(3600 * 24));
    CHECK(run->data_interval_start == at(3600 * 23));
    CHECK(ok(store->list_task_instances(first.run->id)).size() == 1);

    // A replay of the same step (same expected count) is refused and writes nothing.
    auto replay = ok(store->apply_backfill_step(step_of(id, 0, 24, backfill_run(id, "etl", 24))));
    CHECK_FALSE(replay.applied);
    CHECK_FALSE(replay.run);

    // A skipped interval advances the cursor and the skip count, and creates no run.
    auto skipped = ok(store->apply_backfill_step(step_of(id, 1, 23, std::nullopt)));
    CHECK(skipped.applied);
    CHECK_FALSE(skipped.run);

    auto b = ok(store->get_backfill(id));
    REQUIRE(b);
    CHECK(b->steps == 2);
    CHECK(b->skipped == 1);
    CHECK(b->cursor == at(3600 * 23));
    CHECK(b->updated_at == at(101));
    CHECK(b->runs.created == 1);
    CHECK(b->runs.queued == 1);
}

STORE_TEST("a paused or canceled backfill takes no step; finished states are final", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    const auto id = ok(store->create_backfill(make_backfill("etl")));
    const backfill_state running[] = {backfill_state::running};
    const backfill_state paused[] = {backfill_state::paused};
    const backfill_state active[] = {backfill_state::running, backfill_state::paused};

    CHECK(ok(store->set_backfill_state(id, running, backfill_state::paused, at(10))));
    CHECK_FALSE(ok(store->set_backfill_state(id, running, backfill_state::paused, at(11))));
    auto refused = ok(store->apply_backfill_step(step_of(id, 0, 24, backfill_run(id, "etl", 24))));
    CHECK_FALSE(refused.applied);
    CHECK(ok(store->list_runs_by_logical_time("etl", at(0), at(3600 * 48))).empty());

    CHECK(ok(store->set_backfill_state(id, paused, backfill_state::running, at(12))));
    CHECK(ok(store->apply_backfill_step(step_of(id, 0, 24, std::nullopt))).applied);
    CHECK(ok(store->set_backfill_state(id, active, backfill_state::canceled, at(13))));
    CHECK_FALSE(ok(store->set_backfill_state(id, active, backfill_state::running, at(14))));
    CHECK_FALSE(ok(store->apply_backfill_step(step_of(id, 1, 23, std::nullopt))).applied);
    auto b = ok(store->get_backfill(id));
    REQUIRE(b);
    CHECK(b->state == backfill_state::canceled);
    CHECK(b->updated_at == at(13));
    CHECK_FALSE(ok(store->set_backfill_state(core::backfill_id{id.value + 1000}, active,
                                             backfill_state::canceled, at(15))));
}

STORE_TEST("backfills list newest first, by job, with run counts; unfinished ones for startup",
           "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    const auto a = ok(store->create_backfill(make_backfill("etl")));
    const auto b = ok(store->create_backfill(make_backfill("views")));
    const auto c = ok(store->create_backfill(make_backfill("etl")));
    // Runs of c in every state class.
    std::vector<core::run_id> runs;
    for (std::int64_t h = 0; h < 5; ++h) {
        auto r =
            ok(store->apply_backfill_step(step_of(c, h, 24 - h, backfill_run(c, "etl", 24 - h))));
        REQUIRE(r.run);
        runs.push_back(r.run->id);
    }
    const auto t = at(200);
    apply(*store, {scheduler::run_transition{runs[0], run_state::queued, run_state::running, t},
                   scheduler::run_transition{runs[1], run_state::queued, run_state::running, t},
                   scheduler::run_transition{runs[2], run_state::queued, run_state::running, t},
                   scheduler::run_transition{runs[3], run_state::queued, run_state::running, t}});
    apply(*store, {scheduler::run_transition{runs[1], run_state::running, run_state::success, t},
                   scheduler::run_transition{runs[2], run_state::running, run_state::failed, t},
                   scheduler::run_transition{runs[3], run_state::running, run_state::timed_out, t},
                   scheduler::run_transition{runs[4], run_state::queued, run_state::canceled, t}});
    auto etl = ok(store->list_backfills({std::string("etl"), 50}));
    REQUIRE(etl.size() == 2);
    CHECK(etl[0].id == c);
    CHECK(etl[1].id == a);
    CHECK(etl[0].runs.created == 5);
    CHECK(etl[0].runs.running == 1);
    CHECK(etl[0].runs.succeeded == 1);
    CHECK(etl[0].runs.failed == 2);
    CHECK(etl[0].runs.canceled == 1);
    CHECK(etl[0].runs.queued == 0);
    CHECK(etl[1].runs.created == 0);
    CHECK(ok(store->list_backfills({std::nullopt, 2})).size() == 2);

    const backfill_state running[] = {backfill_state::running};
    CHECK(ok(store->set_backfill_state(a, running, backfill_state::success, at(300))));
    CHECK(ok(store->set_backfill_state(b, running, backfill_state::paused, at(300))));
    auto unfinished = ok(store->list_unfinished_backfills());
    REQUIRE(unfinished.size() == 2);
    CHECK(unfinished[0].id == b);
    CHECK(unfinished[0].state == backfill_state::paused);
    CHECK(unfinished[1].id == c);
}

STORE_TEST("runs by logical time: one job, an inclusive range, every trigger kind", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto scheduled = make_run("etl", "sched:etl:1");
    scheduled.trigger = scheduler::trigger_kind::scheduled;
    scheduled.logical_time = at(3600);
    auto other_job = make_run("views", "sched:views:1");
    other_job.logical_time = at(3600);
    auto later = make_run("etl", "sched:etl:2");
    later.logical_time = at(7200);
    auto untimed = make_run("etl", "adhoc:etl:1");
    const auto s = ok(store->create_run(scheduled));
    ok(store->create_run(other_job));
    const auto l = ok(store->create_run(later));
    ok(store->create_run(untimed));
    const auto id = ok(store->create_backfill(make_backfill("etl")));
    const auto bf = ok(store->apply_backfill_step(step_of(id, 0, 1, backfill_run(id, "etl", 1))));
    REQUIRE(bf.run);

    auto one = ok(store->list_runs_by_logical_time("etl", at(3600), at(3600)));
    REQUIRE(one.size() == 2);
    CHECK(one[0].id == s.id);
    CHECK(one[1].id == bf.run->id);
    auto both = ok(store->list_runs_by_logical_time("etl", at(0), at(7200)));
    REQUIRE(both.size() == 3);
    CHECK(both[2].id == l.id);
    CHECK(ok(store->list_runs_by_logical_time("etl", at(3601), at(7199))).empty());
}

}  // namespace
}  // namespace sluice::test

namespace sluice::test {

STORE_TEST(
    "backfill run counts follow every state change, a rerun included, and outlive the removal "
    "of old runs",
    "[store][retention]") {
    TestType db;
    auto store = open_migrated(db.url());
    const auto id = ok(store->create_backfill(make_backfill("etl")));
    std::vector<core::run_id> runs;
    for (std::int64_t h = 0; h < 3; ++h) {
        auto r =
            ok(store->apply_backfill_step(step_of(id, h, 24 - h, backfill_run(id, "etl", 24 - h))));
        REQUIRE(r.run);
        runs.push_back(r.run->id);
    }
    const auto counts = [&] {
        auto b = ok(store->get_backfill(id));
        REQUIRE(b);
        const auto& c = b->runs;
        return std::vector<std::int64_t>{c.created,   c.queued, c.running,
                                         c.succeeded, c.failed, c.canceled};
    };
    CHECK(counts() == std::vector<std::int64_t>{3, 3, 0, 0, 0, 0});
    const auto soon = at(200);
    const auto later = at(5000);
    apply(*store,
          {scheduler::run_transition{runs[0], run_state::queued, run_state::running, soon},
           scheduler::run_transition{runs[1], run_state::queued, run_state::running, soon},
           scheduler::run_transition{runs[2], run_state::queued, run_state::canceled, later}});
    CHECK(counts() == std::vector<std::int64_t>{3, 0, 2, 0, 0, 1});
    apply(*store,
          {scheduler::run_transition{runs[0], run_state::running, run_state::failed, soon},
           scheduler::run_transition{runs[1], run_state::running, run_state::success, soon}});
    CHECK(counts() == std::vector<std::int64_t>{3, 0, 0, 1, 1, 1});
    // A transition whose fence fails changes nothing.
    apply(*store, {scheduler::run_transition{runs[1], run_state::queued, run_state::failed, soon}});
    CHECK(counts() == std::vector<std::int64_t>{3, 0, 0, 1, 1, 1});
    // A rerun of the failed run: failed, then queued, running, success again.
    apply(*store,
          {scheduler::run_transition{runs[0], run_state::failed, run_state::queued, later}});
    CHECK(counts() == std::vector<std::int64_t>{3, 1, 0, 1, 0, 1});
    apply(*store,
          {scheduler::run_transition{runs[0], run_state::queued, run_state::running, later},
           scheduler::run_transition{runs[0], run_state::running, run_state::timed_out, later}});
    CHECK(counts() == std::vector<std::int64_t>{3, 0, 0, 1, 1, 1});

    // Retention removes the run that ended long ago; the backfill still counts it.
    scheduler::retention_cutoffs cutoffs;
    cutoffs.runs = at(1000);
    CHECK(ok(store->prune_batch(cutoffs, 100)).runs == 1);
    CHECK_FALSE(ok(store->get_run(runs[1])).has_value());
    CHECK(counts() == std::vector<std::int64_t>{3, 0, 0, 1, 1, 1});
    // Once every run is gone, the finished backfill goes with its counts.
    const backfill_state running[] = {backfill_state::running};
    CHECK(ok(store->set_backfill_state(id, running, backfill_state::failed, at(5001))));
    cutoffs.runs = at(10000);
    const auto removed = ok(store->prune_batch(cutoffs, 100));
    CHECK(removed.runs == 2);
    CHECK(removed.backfills == 1);
    CHECK_FALSE(ok(store->get_backfill(id)).has_value());
}

}  // namespace sluice::test
