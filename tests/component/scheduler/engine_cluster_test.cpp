// The engine under the scheduler lease (docs/cluster.md#the-scheduler): two engines on one store,
// as two cluster nodes; the test claims the lease through the store's node registry and reports
// it the way the daemon's node membership does (engine::cluster_beat). Only the holder creates
// ticks; an engine whose lease was taken over without its knowing (a frozen node) has its ticks
// refused by the store; the new holder catches up from the store, so every tick has exactly
// one run. Pauses and backfills made through the other node are taken up at its next beat.

#include <algorithm>

#include <catch2/catch.hpp>

#include "core/time.hpp"
#include "scheduler/node_registry.hpp"
#include "tests/component/scheduler/engine_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

scheduler::engine_options node_options(const std::string& id) {
    scheduler::engine_options o = test::engine_fixture::default_options();
    o.instance_id = id;
    o.elected_scheduler = true;
    return o;
}

scheduler::node_registry& registry(test::engine_fixture& f) {
    auto* nodes = dynamic_cast<scheduler::node_registry*>(&f.store());
    REQUIRE(nodes != nullptr);
    return *nodes;
}

// Claims the lease for `id` (taking it from `from` when given) and returns the grant to report.
scheduler::scheduler_grant claim(scheduler::node_registry& nodes, const std::string& id,
                                 const std::string& from = {}) {
    const auto sent = std::chrono::steady_clock::now();
    auto c = nodes.claim_scheduler(id, 30s, from);
    REQUIRE(c.has_value());
    REQUIRE(c->held);
    return scheduler::scheduler_grant{c->epoch, sent + 30s};
}

std::vector<core::sys_seconds> ticks(test::engine_fixture& f, const std::string& job) {
    std::vector<core::sys_seconds> out;
    for (const auto& r : f.runs(job)) {
        if (r.trigger == scheduler::trigger_kind::scheduled && r.logical_time) {
            out.push_back(std::chrono::floor<std::chrono::seconds>(*r.logical_time));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Runs of `trigger` this engine created (the queued events it notified).
std::size_t created_by(const test::engine_fixture& f, const std::string& trigger = "scheduled") {
    std::size_t n = 0;
    for (const auto& e : f.observed()) {
        if (e.kind == "run.state" && e.payload_json.find("\"to\":\"queued\",\"trigger\":\"" +
                                                         trigger + "\"") != std::string::npos) {
            ++n;
        }
    }
    return n;
}

const char* const every_second = R"(
jobs:
  tick:
    schedule: "* * * * * *"
    catchup: all
    max_catchup_runs: 1000
    tasks:
      t: {type: noop}
)";

}  // namespace

TEMPLATE_TEST_CASE("only the scheduler lease's holder creates ticks; a take-over loses none",
                   "[engine][cluster]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture one(db.url(), every_second, node_options("node-1"));
    test::engine_fixture two(db.url(), every_second, node_options("node-2"));
    one.start();
    two.start();
    one.engine().cluster_beat(claim(registry(one), "node-1"));
    two.engine().cluster_beat(std::nullopt);
    REQUIRE(test::engine_fixture::eventually([&] { return created_by(one) >= 2; }));
    CHECK(created_by(two) == 0);

    // node-2 takes the lease over; node-1 is not told (frozen, say): its next ticks are refused
    // by the store, and node-2 catches up from what the store holds.
    two.engine().cluster_beat(claim(registry(two), "node-2", "node-1"));
    REQUIRE(test::engine_fixture::eventually([&] { return created_by(two) >= 2; }));
    const std::size_t one_after = created_by(one);
    std::this_thread::sleep_for(1500ms);
    CHECK(created_by(one) == one_after);
    one.stop();
    two.stop();

    const auto times = ticks(two, "tick");
    REQUIRE(times.size() >= 4);
    for (std::size_t i = 1; i < times.size(); ++i) {
        INFO(core::format_rfc3339_utc(times[i]));
        CHECK(times[i] - times[i - 1] == 1s);  // no tick twice, none missing
    }
    CHECK(created_by(one) + created_by(two) == times.size());
}

TEST_CASE("a pause through another node and a backfill created there reach the scheduler",
          "[engine][cluster]") {
    test::postgres_database db;
    const char* yaml = R"(
jobs:
  hourly:
    schedule: "0 * * * *"
    tasks:
      t: {type: noop}
)";
    test::engine_fixture one(db.url(), yaml, node_options("node-1"));
    test::engine_fixture two(db.url(), yaml, node_options("node-2"));
    one.start();
    two.start();
    one.engine().cluster_beat(claim(registry(one), "node-1"));
    two.engine().cluster_beat(std::nullopt);

    REQUIRE(two.engine().set_paused("hourly", true).value());
    one.engine().cluster_beat(claim(registry(one), "node-1"));  // the next heartbeat
    REQUIRE(test::engine_fixture::eventually([&] {
        auto jobs = one.engine().jobs();
        return jobs.size() == 1 && jobs[0].paused && !jobs[0].next_fire;
    }));
    REQUIRE(two.engine().set_paused("hourly", false).value());
    one.engine().cluster_beat(claim(registry(one), "node-1"));
    REQUIRE(test::engine_fixture::eventually([&] {
        auto jobs = one.engine().jobs();
        return jobs.size() == 1 && !jobs[0].paused && jobs[0].next_fire;
    }));

    // A backfill asked of node-2: node-1, the scheduler, creates its runs.
    scheduler::backfill_request b;
    b.job = "hourly";
    b.from = std::chrono::floor<std::chrono::seconds>(
        core::time_point(core::parse_rfc3339("2026-01-01T00:00:00Z").value()));
    b.to = b.from + 3h;
    b.max_active_runs = 3;
    auto created = two.engine().create_backfill(b);
    REQUIRE(created.has_value());
    REQUIRE(created->backfill.has_value());
    const core::backfill_id id = created->backfill->id;
    std::this_thread::sleep_for(300ms);
    CHECK(created_by(two, "backfill") == 0);  // not the scheduler: it creates none
    one.engine().cluster_beat(claim(registry(one), "node-1"));
    REQUIRE(test::engine_fixture::eventually([&] {
        auto rec = one.store().get_backfill(id);
        return rec && *rec && (*rec)->state == scheduler::backfill_state::success;
    }));
    CHECK(created_by(one, "backfill") == 3);
    CHECK(created_by(two, "backfill") == 0);
    one.stop();
    two.stop();
}
