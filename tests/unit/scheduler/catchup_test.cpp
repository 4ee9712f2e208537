#include "scheduler/catchup.hpp"

#include <catch2/catch.hpp>

#include "core/time.hpp"
#include "scheduler/cron/cron_expression.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using config::catchup_policy;

namespace {

core::sys_seconds at(const char* rfc3339) {
    return core::parse_rfc3339(rfc3339).value();
}

scheduler::next_tick_fn schedule(const char* text) {
    auto cron = scheduler::cron_expression::parse(text).value();
    const date::time_zone* utc = core::find_time_zone("UTC").value();
    return [cron, utc](core::sys_seconds after) { return cron.next(after, utc); };
}

}  // namespace

TEST_CASE("newest ticks finds the last ticks before a bound", "[catchup]") {
    auto hourly = schedule("0 * * * *");
    auto ticks =
        scheduler::newest_ticks(hourly, at("2026-01-01T00:00:00Z"), at("2026-01-01T05:30:00Z"), 3);
    REQUIRE(ticks.size() == 3);
    CHECK(ticks[0] == at("2026-01-01T03:00:00Z"));
    CHECK(ticks[2] == at("2026-01-01T05:00:00Z"));
    // `after` is exclusive, `until` inclusive.
    ticks =
        scheduler::newest_ticks(hourly, at("2026-01-01T00:00:00Z"), at("2026-01-01T02:00:00Z"), 10);
    REQUIRE(ticks.size() == 2);
    CHECK(ticks[0] == at("2026-01-01T01:00:00Z"));
    CHECK(ticks[1] == at("2026-01-01T02:00:00Z"));
}

TEST_CASE("newest ticks after years of downtime on a per-second schedule is cheap", "[catchup]") {
    auto every_second = schedule("* * * * * *");
    auto ticks = scheduler::newest_ticks(every_second, at("2020-01-01T00:00:00Z"),
                                         at("2026-01-01T00:00:00Z"), 2);
    REQUIRE(ticks.size() == 2);
    CHECK(ticks[1] == at("2026-01-01T00:00:00Z"));
}

TEST_CASE("previous tick of a yearly schedule", "[catchup]") {
    auto yearly = schedule("0 0 1 1 *");
    CHECK(scheduler::previous_tick(yearly, at("2026-01-01T00:00:00Z")) ==
          at("2025-01-01T00:00:00Z"));
    auto hourly = schedule("0 * * * *");
    CHECK(scheduler::previous_tick(hourly, at("2026-01-01T05:00:00Z")) ==
          at("2026-01-01T04:00:00Z"));
}

TEST_CASE("catchup none fires nothing on resume", "[catchup]") {
    auto plan = scheduler::plan_ticks(schedule("0 * * * *"), catchup_policy::none, 100,
                                      at("2026-01-01T00:00:00Z"), at("2026-01-01T05:30:00Z"), true);
    CHECK(plan.fire.empty());
    CHECK(plan.next == at("2026-01-01T06:00:00Z"));
}

TEST_CASE("catchup latest fires only the newest missed tick", "[catchup]") {
    auto plan = scheduler::plan_ticks(schedule("0 * * * *"), catchup_policy::latest, 100,
                                      at("2026-01-01T00:00:00Z"), at("2026-01-01T05:30:00Z"), true);
    REQUIRE(plan.fire.size() == 1);
    CHECK(plan.fire[0] == at("2026-01-01T05:00:00Z"));
    CHECK(plan.next == at("2026-01-01T06:00:00Z"));
}

TEST_CASE("catchup all fires every missed tick oldest first", "[catchup]") {
    auto plan = scheduler::plan_ticks(schedule("0 * * * *"), catchup_policy::all, 100,
                                      at("2026-01-01T00:00:00Z"), at("2026-01-01T05:30:00Z"), true);
    REQUIRE(plan.fire.size() == 5);
    CHECK(plan.fire.front() == at("2026-01-01T01:00:00Z"));
    CHECK(plan.fire.back() == at("2026-01-01T05:00:00Z"));
}

TEST_CASE("catchup all is capped by max_catchup_runs keeping the newest", "[catchup]") {
    auto plan = scheduler::plan_ticks(schedule("0 * * * *"), catchup_policy::all, 3,
                                      at("2026-01-01T00:00:00Z"), at("2026-01-02T00:30:00Z"), true);
    REQUIRE(plan.fire.size() == 3);
    CHECK(plan.fire[0] == at("2026-01-01T22:00:00Z"));
    CHECK(plan.fire[2] == at("2026-01-02T00:00:00Z"));
}

TEST_CASE("a changed schedule never back-fires ticks from before the change", "[catchup]") {
    // Last tick under the old daily schedule at midnight; the schedule became hourly at 10:30;
    // the daemon restarts at 12:10. Only ticks after the change (11:00, 12:00) may fire.
    core::sys_seconds last_tick = at("2026-01-01T00:00:00Z");
    core::sys_seconds changed = at("2026-01-01T10:30:00Z");
    auto plan =
        scheduler::plan_ticks(schedule("0 * * * *"), catchup_policy::all, 100,
                              std::max(last_tick, changed), at("2026-01-01T12:10:00Z"), true);
    REQUIRE(plan.fire.size() == 2);
    CHECK(plan.fire[0] == at("2026-01-01T11:00:00Z"));
    CHECK(plan.fire[1] == at("2026-01-01T12:00:00Z"));
}

TEST_CASE("running timer fires the due tick even under catchup none", "[catchup]") {
    auto plan =
        scheduler::plan_ticks(schedule("0 * * * *"), catchup_policy::none, 100,
                              at("2026-01-01T04:00:00Z"), at("2026-01-01T05:00:00Z"), false);
    REQUIRE(plan.fire.size() == 1);
    CHECK(plan.fire[0] == at("2026-01-01T05:00:00Z"));
    CHECK(plan.next == at("2026-01-01T06:00:00Z"));
}

TEST_CASE("a wakeup before the tick fires nothing", "[catchup]") {
    // The wall clock is behind the timer (steady and system clocks drift, or the clock was set
    // back): nothing fires early, and the already fired tick is not fired twice.
    auto plan =
        scheduler::plan_ticks(schedule("0 * * * *"), catchup_policy::latest, 100,
                              at("2026-01-01T05:00:00Z"), at("2026-01-01T04:59:59Z"), false);
    CHECK(plan.fire.empty());
    CHECK(plan.next == at("2026-01-01T06:00:00Z"));
}
