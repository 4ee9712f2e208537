// The run_store conformance suite, retention: prune_batch removes old finished runs with their
// tasks, logs and events, old log lines and old events, never an active run, a checkpoint or a
// variable; count_prunable says the same beforehand; batches are bounded.

#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::run_state;

struct seeded_run {
    core::run_id id;
    std::vector<scheduler::task_instance_record> tasks;
};

// A run created at `created` with two tasks, three log lines per task logged at `created`, and
// one event; finished (success) at `ended` unless `ended` is nullopt (then running).
seeded_run seed(scheduler::run_store& store, const std::string& key, core::time_point created,
                std::optional<core::time_point> ended) {
    auto run = make_run("etl", key);
    run.created_at = created;
    seeded_run s;
    s.id = ok(store.create_run(run)).id;
    s.tasks = ok(store.list_task_instances(s.id));
    for (const auto& t : s.tasks) {
        const std::vector<scheduler::log_line> lines = {
            {created, "stdout", "one"}, {created, "stdout", "two"}, {created, "stderr", "three"}};
        ok(store.append_task_log(t.id, 1, lines));
    }
    ok(store.append_event(
        scheduler::new_event{created, "run.state", "etl", s.id, std::nullopt, "{}", "test"}));
    apply(store, {scheduler::run_transition{s.id, run_state::queued, run_state::running, created}});
    if (ended) {
        apply(store,
              {scheduler::run_transition{s.id, run_state::running, run_state::success, *ended}});
    }
    return s;
}

std::size_t log_lines_of(scheduler::run_store& store, const seeded_run& s) {
    std::size_t n = 0;
    for (const auto& t : s.tasks) {
        n += ok(store.read_task_log(t.id, 0, 1000)).size();
    }
    return n;
}

}  // namespace

STORE_TEST("prune removes old finished runs whole and leaves active and recent ones",
           "[store][retention]") {
    TestType db;
    auto store = open_migrated(db.url());
    const auto old_done = seed(*store, "old-done", at(0), at(10));
    const auto old_running = seed(*store, "old-running", at(0), std::nullopt);
    const auto recent = seed(*store, "recent", at(1000), at(1010));
    ok(store->put_checkpoint("etl", "load", "mark", R"({"id": 7})", at(0)));
    ok(store->put_variable(scheduler::variable_record{"region", "eu", false, at(0)}));
    ok(store->append_event(scheduler::new_event{at(0), "job.paused", std::nullopt, std::nullopt,
                                                std::nullopt, "{}", "test"}));

    scheduler::retention_cutoffs cutoffs;
    cutoffs.runs = at(500);
    const auto counted = ok(store->count_prunable(cutoffs));
    CHECK(counted.runs == 1);
    CHECK(counted.task_instances == 2);
    CHECK(counted.log_lines == 6);
    CHECK(counted.events >= 1);  // run_created, and the run's state events if the store adds any

    const auto removed = ok(store->prune_batch(cutoffs, 100));
    CHECK(removed.runs == counted.runs);
    CHECK(removed.task_instances == counted.task_instances);
    CHECK(removed.log_lines == counted.log_lines);
    CHECK(removed.events == counted.events);
    CHECK(ok(store->prune_batch(cutoffs, 100)).empty());
    CHECK(ok(store->count_prunable(cutoffs)).empty());

    CHECK_FALSE(ok(store->get_run(old_done.id)).has_value());
    CHECK(ok(store->list_task_instances(old_done.id)).empty());
    for (const auto& t : old_done.tasks) {
        CHECK(ok(store->read_task_log(t.id, 0, 100)).empty());
    }
    REQUIRE(ok(store->get_run(old_running.id)).has_value());
    CHECK(log_lines_of(*store, old_running) == 6);
    REQUIRE(ok(store->get_run(recent.id)).has_value());
    CHECK(log_lines_of(*store, recent) == 6);
    CHECK(ok(store->get_checkpoint("etl", "load", "mark")) == R"({"id": 7})");
    CHECK(ok(store->get_variable("region")).has_value());
    // The run-less event is not the runs cutoff's to remove.
    const auto events = ok(store->read_events(0, std::string_view("job.paused"), 10));
    CHECK(events.size() == 1);
}

STORE_TEST("prune removes old log lines and events but not those of an active run",
           "[store][retention]") {
    TestType db;
    auto store = open_migrated(db.url());
    const auto old_done = seed(*store, "old-done", at(0), at(10));
    const auto old_running = seed(*store, "old-running", at(0), std::nullopt);
    const auto recent = seed(*store, "recent", at(1000), at(1010));
    ok(store->append_event(scheduler::new_event{at(0), "job.paused", std::nullopt, std::nullopt,
                                                std::nullopt, "{}", "test"}));

    scheduler::retention_cutoffs cutoffs;
    cutoffs.logs = at(500);
    cutoffs.events = at(500);
    const auto counted = ok(store->count_prunable(cutoffs));
    CHECK(counted.runs == 0);
    CHECK(counted.log_lines == 6);  // the finished old run's; not the running one's
    scheduler::prune_counts removed;
    int batches = 0;
    for (;;) {
        const auto n = ok(store->prune_batch(cutoffs, 2));  // small batches: several calls
        if (n.empty()) {
            break;
        }
        CHECK(n.log_lines <= 2);
        CHECK(n.events <= 2);
        removed += n;
        ++batches;
        REQUIRE(batches < 50);
    }
    CHECK(batches >= 3);
    CHECK(removed.log_lines == counted.log_lines);
    CHECK(removed.events == counted.events);
    CHECK(removed.runs == 0);

    REQUIRE(ok(store->get_run(old_done.id)).has_value());  // the run stays, its lines go
    CHECK(log_lines_of(*store, old_done) == 0);
    CHECK(log_lines_of(*store, old_running) == 6);
    CHECK(log_lines_of(*store, recent) == 6);
    CHECK(ok(store->read_events(0, std::string_view("job.paused"), 10)).empty());
    bool running_event_kept = false;
    for (const auto& e : ok(store->read_events(0, std::nullopt, 1000))) {
        running_event_kept = running_event_kept || e.run == old_running.id;
        CHECK(e.run != old_done.id);
    }
    CHECK(running_event_kept);
}

STORE_TEST("prune with no cutoffs removes nothing", "[store][retention]") {
    TestType db;
    auto store = open_migrated(db.url());
    seed(*store, "old-done", at(0), at(10));
    CHECK(ok(store->prune_batch(scheduler::retention_cutoffs{}, 100)).empty());
    CHECK(ok(store->count_prunable(scheduler::retention_cutoffs{})).empty());
    CHECK(ok(store->list_runs(scheduler::run_filter{})).runs.size() == 1);
}

}  // namespace sluice::test
