// The run_store conformance suite: runs created in write batches (run_store::write_batch, what
// the group-commit writer commits), on both stores.

#include <future>
#include <set>
#include <thread>

#include "store/store_writer.hpp"
#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::run_state;
using scheduler::task_state;
using scheduler::trigger_kind;

scheduler::run_creation creation(scheduler::new_run run) {
    scheduler::run_creation c;
    scheduler::new_event e;
    e.at = run.created_at;
    e.kind = "run.state";
    e.job = run.job;
    e.payload_json = R"({"to":"queued"})";
    e.actor = "scheduler";
    c.run = std::move(run);
    c.events.push_back(std::move(e));
    return c;
}

scheduler::new_run tick_run(const std::string& job, std::int64_t second) {
    scheduler::new_run run = make_run(
        job,
        scheduler::scheduled_run_key(job, std::chrono::floor<std::chrono::seconds>(at(second))));
    run.trigger = trigger_kind::scheduled;
    run.logical_time = at(second);
    run.data_interval_start = at(second - 60);
    run.data_interval_end = at(second);
    return run;
}

std::size_t count_runs(scheduler::run_store& store) {
    scheduler::run_filter filter;
    filter.limit = 100;
    return ok(store.list_runs(filter)).runs.size();
}

std::vector<scheduler::event_record> queued_events(scheduler::run_store& store) {
    return ok(store.read_events(0, std::string_view("run.state"), 1000));
}

STORE_TEST("write_batch creates runs with their tasks and events and applies the transitions",
           "[store][create_runs]") {
    TestType db;
    auto store = open_migrated(db.url());
    ok(store->upsert_job("etl", "h1", false));
    auto earlier = ok(store->create_run(make_run("etl", "manual:etl:earlier")));
    auto earlier_tasks = ok(store->list_task_instances(earlier.id));

    std::vector<scheduler::run_creation> creations{
        creation(make_run("etl", "manual:etl:a")),
        creation(tick_run("etl", 60)),
        creation(make_run("etl", "adhoc:etl:b", {"only"})),
    };
    std::vector<scheduler::transition> transitions{
        task_move(earlier_tasks[0].id, task_state::pending, 0, task_state::queued, at(1)),
        task_move(earlier_tasks[1].id, task_state::running, 0, task_state::success, at(1)),
    };
    auto out = ok(store->write_batch(creations, transitions));
    REQUIRE(out.runs.size() == 3);
    CHECK(out.transitions == std::vector{applied, conflict});
    std::set<std::int64_t> ids;
    for (std::size_t i = 0; i < out.runs.size(); ++i) {
        const scheduler::created_run& c = out.runs[i];
        CHECK(c.created);
        ids.insert(c.id.value);
        auto run = ok(store->get_run(c.id));
        REQUIRE(run);
        CHECK(run->run_key == creations[i].run.run_key);
        CHECK(run->state == run_state::queued);
        CHECK(run->trigger == creations[i].run.trigger);
        CHECK(run->params_json.find("2026-01-01") != std::string::npos);
        CHECK(run->logical_time == creations[i].run.logical_time);
        CHECK(run->data_interval_start == creations[i].run.data_interval_start);
        CHECK(run->created_at == at(0));
        // The tasks handed back are the stored ones, in the order of new_run::tasks.
        auto stored = ok(store->list_task_instances(c.id));
        REQUIRE(c.tasks.size() == creations[i].run.tasks.size());
        REQUIRE(stored.size() == c.tasks.size());
        for (std::size_t t = 0; t < stored.size(); ++t) {
            CHECK(c.tasks[t].task == creations[i].run.tasks[t].task);
            CHECK(c.tasks[t].id == stored[t].id);
            CHECK(c.tasks[t].run == c.id);
            CHECK(c.tasks[t].job == "etl");
            CHECK(c.tasks[t].state == task_state::pending);
            CHECK(c.tasks[t].max_tries == stored[t].max_tries);
            CHECK(c.tasks[t].lease_epoch == 0);
        }
    }
    CHECK(ids.size() == 3);
    // Each created run's event, with its id, in creation order.
    auto events = queued_events(*store);
    REQUIRE(events.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(events[i].run == out.runs[i].id);
        CHECK(events[i].job == "etl");
        CHECK(events[i].actor == "scheduler");
        CHECK(events[i].payload_json.find("queued") != std::string::npos);
    }
    // The scheduled run advanced the job's newest tick.
    auto job = ok(store->get_job("etl"));
    REQUIRE(job);
    CHECK(job->last_scheduled_tick == at(60));
    auto task = ok(store->get_task_instance(earlier_tasks[0].id));
    REQUIRE(task);
    CHECK(task->state == task_state::queued);
}

STORE_TEST("a duplicate idempotency key and a duplicate tick inside one batch fail no neighbour",
           "[store][create_runs]") {
    TestType db;
    auto store = open_migrated(db.url());
    ok(store->upsert_job("etl", "h1", false));
    auto stored = ok(store->create_run(make_run("etl", "manual:etl:k0")));
    auto stored_tick = ok(store->create_run(tick_run("etl", 120)));

    std::vector<scheduler::run_creation> creations{
        creation(make_run("etl", "manual:etl:k1")),
        creation(make_run("etl", "manual:etl:k1", {"other"})),  // same key in the batch
        creation(tick_run("etl", 60)),
        creation(tick_run("etl", 60)),                          // the same tick twice
        creation(make_run("etl", "manual:etl:k0", {"other"})),  // key already stored
        creation(tick_run("etl", 120)),                         // tick already stored
        creation(make_run("etl", "adhoc:etl:x")),
    };
    auto out = ok(store->write_batch(creations, {}));
    REQUIRE(out.runs.size() == creations.size());
    std::vector<bool> created;
    for (const auto& c : out.runs) {
        created.push_back(c.created);
    }
    CHECK(created == std::vector<bool>{true, false, true, false, false, false, true});
    CHECK(out.runs[1].id == out.runs[0].id);
    CHECK(out.runs[3].id == out.runs[2].id);
    CHECK(out.runs[4].id == stored.id);
    CHECK(out.runs[5].id == stored_tick.id);
    for (std::size_t i : {1, 3, 4, 5}) {
        CHECK(out.runs[i].tasks.empty());
    }
    // The duplicates wrote nothing: no tasks of theirs, no events, the stored runs unchanged.
    CHECK(ok(store->list_task_instances(out.runs[0].id)).size() == 2);
    CHECK(ok(store->list_task_instances(stored.id)).size() == 2);
    auto run_k0 = ok(store->get_run(stored.id));
    REQUIRE(run_k0);
    CHECK(run_k0->run_key == "manual:etl:k0");
    CHECK(queued_events(*store).size() == 3);
    CHECK(count_runs(*store) == 5);
    // The older tick created nothing; the stored newer one stays the job's newest.
    auto job = ok(store->get_job("etl"));
    REQUIRE(job);
    CHECK(job->last_scheduled_tick == at(120));
    // A batch of duplicates only still commits its transitions.
    auto tasks = ok(store->list_task_instances(stored.id));
    auto again = ok(
        store->write_batch(std::vector{creation(make_run("etl", "manual:etl:k0"))},
                           std::vector<scheduler::transition>{task_move(
                               tasks[0].id, task_state::pending, 0, task_state::queued, at(2))}));
    CHECK_FALSE(again.runs.at(0).created);
    CHECK(again.runs.at(0).id == stored.id);
    CHECK(again.transitions == std::vector{applied});
}

// A run as the engine creates one it can start at once: running since `started`, its first
// task running under `owner`'s lease, the second queued, a third pending.
scheduler::new_run started_run(const std::string& key, core::time_point started,
                               const std::string& owner) {
    scheduler::new_run run = make_run("etl", key, {"extract", "side", "load"});
    run.started_at = started;
    run.tasks[0].state = task_state::running;
    run.tasks[0].lease_owner = owner;
    run.tasks[0].lease_expires_at = started + 60s;
    run.tasks[1].state = task_state::queued;
    return run;
}

STORE_TEST("a run created already started: running, its first tasks queued or leased, one commit",
           "[store][create_runs]") {
    TestType db;
    auto store = open_migrated(db.url());
    ok(store->upsert_job("etl", "h1", false));
    auto first = creation(started_run("manual:etl:s1", at(5), "me:1:a"));
    scheduler::new_event running = first.events.front();
    running.payload_json = R"({"from":"queued","to":"running"})";
    first.events.push_back(running);
    std::vector<scheduler::run_creation> creations{
        first,
        creation(started_run("manual:etl:s1", at(6), "me:1:a")),  // the same key: nothing
        creation(make_run("etl", "manual:etl:plain")),
    };
    auto out = ok(store->write_batch(creations, {}));
    REQUIRE(out.runs.size() == 3);
    CHECK(out.runs[0].created);
    CHECK_FALSE(out.runs[1].created);
    CHECK(out.runs[1].id == out.runs[0].id);
    CHECK(out.runs[2].created);

    auto run = ok(store->get_run(out.runs[0].id));
    REQUIRE(run);
    CHECK(run->state == run_state::running);
    CHECK(run->started_at == at(5));
    CHECK(run->created_at == at(0));
    auto stored = ok(store->list_task_instances(out.runs[0].id));
    REQUIRE(stored.size() == 3);
    REQUIRE(out.runs[0].tasks.size() == 3);
    for (std::size_t t = 0; t < 3; ++t) {
        // What the store handed back is what it stored.
        const auto& back = out.runs[0].tasks[t];
        CHECK(back.id == stored[t].id);
        CHECK(back.state == stored[t].state);
        CHECK(back.try_number == stored[t].try_number);
        CHECK(back.lease_owner == stored[t].lease_owner);
        CHECK(back.lease_epoch == stored[t].lease_epoch);
        CHECK(back.lease_expires_at == stored[t].lease_expires_at);
        CHECK(back.queued_at == stored[t].queued_at);
        CHECK(back.started_at == stored[t].started_at);
    }
    CHECK(stored[0].state == task_state::running);
    CHECK(stored[0].try_number == 1);
    CHECK(stored[0].lease_owner == std::optional<std::string>("me:1:a"));
    CHECK(stored[0].lease_epoch == 1);
    CHECK(stored[0].lease_expires_at == at(65));
    CHECK(stored[0].queued_at == at(5));
    CHECK(stored[0].started_at == at(5));
    CHECK(stored[1].state == task_state::queued);
    CHECK(stored[1].try_number == 0);
    CHECK(stored[1].lease_owner == std::nullopt);
    CHECK(stored[1].lease_epoch == 0);
    CHECK(stored[1].queued_at == at(5));
    CHECK(stored[1].started_at == std::nullopt);
    CHECK(stored[2].state == task_state::pending);
    CHECK(stored[2].queued_at == std::nullopt);
    // Both of the started run's events, then the plain run's one.
    auto events = queued_events(*store);
    REQUIRE(events.size() == 3);
    CHECK(events[0].run == out.runs[0].id);
    CHECK(events[1].run == out.runs[0].id);
    CHECK(events[1].payload_json.find("running") != std::string::npos);
    CHECK(events[2].run == out.runs[2].id);

    // The lease is a lease like any other: another owner cannot take it before it expires,
    // and the try ends under epoch 1.
    auto taken =
        apply(*store, {scheduler::lease_acquire{stored[0].id, 1, "other:2:b", at(200), at(10)}});
    CHECK(taken == std::vector{conflict});
    scheduler::task_transition end =
        task_move(stored[0].id, task_state::running, 1, task_state::success, at(20));
    CHECK(apply(*store, {end, scheduler::lease_release{stored[0].id, 1, "me:1:a"}}) ==
          std::vector{applied, applied});
    auto ended = ok(store->get_task_instance(stored[0].id));
    REQUIRE(ended);
    CHECK(ended->state == task_state::success);
    CHECK(ended->lease_owner == std::nullopt);
}

STORE_TEST("a creation the store cannot write as asked is refused and writes nothing",
           "[store][create_runs]") {
    TestType db;
    auto store = open_migrated(db.url());
    ok(store->upsert_job("etl", "h1", false));
    scheduler::new_run not_started = make_run("etl", "manual:etl:bad1");
    not_started.tasks[0].state = task_state::queued;  // a queued task in a queued run
    scheduler::new_run ownerless = started_run("manual:etl:bad2", at(5), "");
    scheduler::new_run finished = started_run("manual:etl:bad3", at(5), "me:1:a");
    finished.tasks[1].state = task_state::success;
    for (const auto& bad : {not_started, ownerless, finished}) {
        auto r = store->write_batch(
            std::vector{creation(make_run("etl", "adhoc:etl:ok")), creation(bad)}, {});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message.find("task '") != std::string::npos);
        CHECK(r.error().cls == core::error_class::permanent);
    }
    CHECK(count_runs(*store) == 0);
}

STORE_TEST("runs submitted to the writer from 8 threads with shared keys are created once each",
           "[store][create_runs]") {
    TestType db;
    auto store = open_migrated(db.url());
    ok(store->upsert_job("etl", "h1", false));
    std::vector<core::result<store::store_writer::created_runs>> results(
        8, core::error::permanent("not run"));
    {
        store::store_writer writer(*store);
        std::vector<std::thread> pool;
        for (int i = 0; i < 8; ++i) {
            pool.emplace_back([&, i] {
                std::vector<scheduler::run_creation> mine{
                    creation(make_run("etl", "manual:etl:shared")),
                    creation(tick_run("etl", 60)),
                    creation(make_run("etl", "adhoc:etl:" + std::to_string(i))),
                };
                results[static_cast<std::size_t>(i)] = writer.submit_runs(std::move(mine)).get();
            });
        }
        for (auto& t : pool) {
            t.join();
        }
    }
    int created_shared = 0;
    int created_tick = 0;
    for (auto& r : results) {
        REQUIRE(r.has_value());
        REQUIRE(r->size() == 3);
        created_shared += (*r)[0].created ? 1 : 0;
        created_tick += (*r)[1].created ? 1 : 0;
        CHECK((*r)[2].created);
        CHECK((*r)[0].id == (*results[0])[0].id);
        CHECK((*r)[1].id == (*results[0])[1].id);
    }
    CHECK(created_shared == 1);
    CHECK(created_tick == 1);
    CHECK(count_runs(*store) == 10);
    CHECK(queued_events(*store).size() == 10);
}

}  // namespace
}  // namespace sluice::test
