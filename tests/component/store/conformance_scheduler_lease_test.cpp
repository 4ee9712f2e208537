// The run_store conformance suite, the scheduler lease (scheduler/node_registry.hpp,
// docs/cluster.md#the-scheduler): one holder at a time by the store's clock, an epoch that rises
// with every change of holder, and run creations and backfill steps fenced by it, on both
// engines.

#include <thread>

#include "scheduler/node_registry.hpp"
#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

scheduler::node_registry& registry_of(scheduler::run_store& store) {
    auto* nodes = dynamic_cast<scheduler::node_registry*>(&store);
    REQUIRE(nodes != nullptr);
    return *nodes;
}

void join(scheduler::node_registry& nodes, const std::string& id, const std::string& name) {
    scheduler::node_registration n;
    n.id = id;
    n.name = name;
    n.info_json = R"({"host":"h"})";
    ok(nodes.register_node(n));
}

scheduler::new_run tick_of(const std::string& job, std::int64_t second, std::int64_t epoch) {
    const auto tick = std::chrono::floor<std::chrono::seconds>(at(second));
    scheduler::new_run run = make_run(job, scheduler::scheduled_run_key(job, tick), {"load"});
    run.trigger = scheduler::trigger_kind::scheduled;
    run.logical_time = tick;
    run.scheduler_epoch = epoch;
    return run;
}

std::vector<scheduler::created_run> create(scheduler::run_store& store,
                                           std::vector<scheduler::new_run> runs) {
    std::vector<scheduler::run_creation> creations;
    for (auto& r : runs) {
        creations.push_back(scheduler::run_creation{std::move(r), {}});
    }
    return ok(store.write_batch(creations, {})).runs;
}

std::size_t count_runs(scheduler::run_store& store) {
    scheduler::run_filter filter;
    filter.limit = 100;
    return ok(store.list_runs(filter)).runs.size();
}

}  // namespace

STORE_TEST("the scheduler lease has one holder at a time, by the store's clock",
           "[store][nodes][scheduler-lease]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto& nodes = registry_of(*store);
    join(nodes, "h:1:a", "etl-1");
    join(nodes, "h:2:b", "etl-2");

    auto first = ok(nodes.claim_scheduler("h:1:a", 10s));
    REQUIRE(first.held);
    const std::int64_t e1 = first.epoch;
    CHECK(e1 >= 1);

    auto refused = ok(nodes.claim_scheduler("h:2:b", 10s));
    CHECK_FALSE(refused.held);
    CHECK(refused.holder == "h:1:a");
    CHECK(refused.holder_name == "etl-1");
    CHECK(refused.holder_info_json.find("\"host\"") != std::string::npos);
    CHECK(refused.remaining > 0us);
    CHECK(refused.remaining <= 10s);

    // A renewal keeps the epoch.
    auto renewed = ok(nodes.claim_scheduler("h:1:a", 10s));
    CHECK(renewed.held);
    CHECK(renewed.epoch == e1);
    auto listed = ok(nodes.list_nodes());
    REQUIRE(listed.size() == 2);
    for (const auto& n : listed) {
        CHECK(n.scheduler == (n.id == "h:1:a"));
    }

    // Given up, it goes to the next claimer at once, with the next epoch.
    CHECK(ok(nodes.release_scheduler("h:1:a")));
    CHECK_FALSE(ok(nodes.release_scheduler("h:1:a")));
    for (const auto& n : ok(nodes.list_nodes())) {
        CHECK_FALSE(n.scheduler);
    }
    auto second = ok(nodes.claim_scheduler("h:2:b", 300ms));
    REQUIRE(second.held);
    CHECK(second.epoch == e1 + 1);

    // Expired by the store's clock, it goes to whoever claims it.
    CHECK_FALSE(ok(nodes.claim_scheduler("h:1:a", 10s)).held);
    std::this_thread::sleep_for(400ms);
    auto third = ok(nodes.claim_scheduler("h:1:a", 10s));
    REQUIRE(third.held);
    CHECK(third.epoch == e1 + 2);

    // A holder the claimer proved gone is not waited out; a wrong guess takes nothing.
    CHECK_FALSE(ok(nodes.claim_scheduler("h:2:b", 10s, "h:9:z")).held);
    auto taken = ok(nodes.claim_scheduler("h:2:b", 10s, "h:1:a"));
    REQUIRE(taken.held);
    CHECK(taken.epoch == e1 + 3);
    CHECK_FALSE(ok(nodes.claim_scheduler("h:1:a", 10s)).held);
}

STORE_TEST("runs fenced by a scheduler epoch are created only while it holds the lease",
           "[store][nodes][scheduler-lease]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto& nodes = registry_of(*store);
    const std::int64_t e1 = ok(nodes.claim_scheduler("h:1:a", 10s)).epoch;

    auto out = create(*store, {tick_of("etl", 60, e1), make_run("etl", "manual:etl:m1")});
    REQUIRE(out.size() == 2);
    CHECK(out[0].created);
    CHECK_FALSE(out[0].fenced);
    CHECK(out[1].created);

    // Another node took the lease over: the old epoch's ticks are refused, manual runs are not.
    const std::int64_t e2 = ok(nodes.claim_scheduler("h:2:b", 10s, "h:1:a")).epoch;
    REQUIRE(e2 == e1 + 1);
    out = create(*store, {tick_of("etl", 120, e1), make_run("etl", "manual:etl:m2"),
                          tick_of("etl", 60, e1)});
    REQUIRE(out.size() == 3);
    CHECK(out[0].fenced);
    CHECK_FALSE(out[0].created);
    CHECK(out[0].tasks.empty());
    CHECK(out[1].created);
    CHECK_FALSE(out[1].fenced);
    // A key already held resolves to its run, fenced or not.
    CHECK_FALSE(out[2].created);
    CHECK_FALSE(out[2].fenced);
    CHECK(out[2].id.value > 0);
    CHECK(count_runs(*store) == 3);

    // The holder's epoch creates; once its lease expired, nothing does.
    out = create(*store, {tick_of("etl", 120, e2)});
    CHECK(out[0].created);
    const std::int64_t e3 = ok(nodes.claim_scheduler("h:1:a", 10s, "h:2:b")).epoch;
    ok(nodes.claim_scheduler("h:1:a", 200ms));
    std::this_thread::sleep_for(300ms);
    out = create(*store, {tick_of("etl", 180, e3)});
    CHECK(out[0].fenced);
    // Given up, likewise.
    ok(nodes.claim_scheduler("h:1:a", 10s));
    ok(nodes.release_scheduler("h:1:a"));
    out = create(*store, {tick_of("etl", 240, e3)});
    CHECK(out[0].fenced);
    CHECK(count_runs(*store) == 4);
}

STORE_TEST("a backfill step whose run carries an old scheduler epoch is not taken",
           "[store][nodes][scheduler-lease]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto& nodes = registry_of(*store);
    scheduler::new_backfill b;
    b.job = "etl";
    b.range_start = at(0);
    b.range_end = at(3600 * 2);
    b.planned = 2;
    b.actor = "api";
    b.created_at = at(1);
    const auto id = ok(store->create_backfill(b));
    const std::int64_t e1 = ok(nodes.claim_scheduler("h:1:a", 10s)).epoch;
    ok(nodes.claim_scheduler("h:2:b", 10s, "h:1:a"));

    auto step = [&](std::int64_t epoch) {
        const auto tick = std::chrono::floor<std::chrono::seconds>(at(3600));
        scheduler::backfill_step s;
        s.backfill = id;
        s.expected_steps = 0;
        s.cursor = tick;
        s.run = make_run("etl", scheduler::backfill_run_key(id, tick), {"load"});
        s.run->trigger = scheduler::trigger_kind::backfill;
        s.run->logical_time = tick;
        s.run->backfill = id;
        s.run->scheduler_epoch = epoch;
        s.at = at(10);
        return s;
    };
    auto fenced = ok(store->apply_backfill_step(step(e1)));
    CHECK(fenced.fenced);
    CHECK_FALSE(fenced.applied);
    CHECK_FALSE(fenced.run);
    CHECK(ok(store->get_backfill(id))->steps == 0);
    CHECK(count_runs(*store) == 0);

    auto taken = ok(store->apply_backfill_step(step(e1 + 1)));
    CHECK(taken.applied);
    CHECK_FALSE(taken.fenced);
    REQUIRE(taken.run);
    CHECK(taken.run->created);
    CHECK(ok(store->get_backfill(id))->steps == 1);
}

}  // namespace sluice::test
