// The engine's schedule side: ticks on time without duplicates or gaps, catch-up after
// downtime, schedule changes, concurrency policies, pause.

#include <catch2/catch.hpp>

#include "core/time.hpp"
#include "tests/component/scheduler/engine_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::run_state;
using scheduler::task_state;
using test::fake_step;

namespace {

core::time_point at(const char* rfc3339) {
    return core::time_point(core::parse_rfc3339(rfc3339).value());
}

std::vector<core::time_point> logical_times(std::vector<scheduler::run_record> runs) {
    std::vector<core::time_point> out;
    for (const auto& r : runs) {
        if (r.logical_time && r.trigger == scheduler::trigger_kind::scheduled) {
            out.push_back(*r.logical_time);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("every-second schedule fires each tick once without gaps", "[engine][schedule]",
                   test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), R"(
jobs:
  tick:
    schedule: "* * * * * *"
    catchup: all
    tasks:
      t: {type: noop}
)");
    f.start();
    std::this_thread::sleep_for(3500ms);
    f.stop();
    // A restart right away: the ticks it missed are caught up, none doubled. `all`, because on
    // a loaded machine the restart can span two ticks, of which `latest` rightly fires one.
    f.start();
    std::this_thread::sleep_for(1500ms);
    f.stop();
    auto times = logical_times(f.runs("tick"));
    REQUIRE(times.size() >= 4);
    for (std::size_t i = 1; i < times.size(); ++i) {
        INFO(core::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(times[i])));
        CHECK(times[i] - times[i - 1] == 1s);
    }
    for (const auto& r : f.runs("tick")) {
        // The newest run may have been created just before the stop and is left queued.
        CHECK((r.state == run_state::success || r.id == f.runs("tick").front().id));
        REQUIRE(r.data_interval_start.has_value());
        CHECK(*r.data_interval_end - *r.data_interval_start == 1s);
    }
}

TEST_CASE("catch-up after downtime follows none latest and all with its cap",
          "[engine][schedule][catchup]") {
    test::sqlite_database db;
    const std::string yaml = R"(
jobs:
  none_job:
    schedule: "0 * * * *"
    catchup: none
    tasks: {t: {type: noop}}
  latest_job:
    schedule: "0 * * * *"
    tasks: {t: {type: noop}}
  all_job:
    schedule: "0 * * * *"
    catchup: all
    max_catchup_runs: 3
    tasks: {t: {type: noop}}
  changed_job:
    schedule: "0 0 * * *"
    catchup: all
    tasks: {t: {type: noop}}
)";
    test::engine_fixture f(db.url(), yaml);
    core::manual_clock& clock = f.use_manual_clock(at("2026-01-01T00:10:00Z"));
    f.start();
    f.stop();
    CHECK(f.runs("latest_job").empty());  // first sight of a job fires nothing from the past

    clock.set(at("2026-01-01T05:30:00Z"));
    // changed_job becomes hourly while the daemon is down; it must not back-fire hours before
    // the change.
    std::string changed = yaml;
    changed.replace(changed.find("\"0 0 * * *\""), 11, "\"0 * * * *\"");
    f.reconfigure(changed);
    f.start();
    CHECK(test::engine_fixture::eventually([&] { return f.runs("all_job").size() == 3; }));
    CHECK(test::engine_fixture::eventually([&] { return f.runs("latest_job").size() == 1; }));
    f.stop();
    f.start();  // a second restart at the same instant fires nothing more
    f.stop();
    f.start();
    CHECK(f.runs("none_job").empty());
    auto latest = logical_times(f.runs("latest_job"));
    REQUIRE(latest.size() == 1);
    CHECK(latest[0] == at("2026-01-01T05:00:00Z"));
    auto all = logical_times(f.runs("all_job"));
    REQUIRE(all.size() == 3);
    CHECK(all[0] == at("2026-01-01T03:00:00Z"));
    CHECK(all[2] == at("2026-01-01T05:00:00Z"));
    CHECK(f.runs("changed_job").empty());

    // An hour later the changed job fires its new schedule.
    f.stop();
    clock.set(at("2026-01-01T06:00:30Z"));
    f.start();
    CHECK(test::engine_fixture::eventually([&] { return f.runs("changed_job").size() == 1; }));
    CHECK(logical_times(f.runs("changed_job")).at(0) == at("2026-01-01T06:00:00Z"));
}

TEST_CASE("pause survives restarts and unpause fires only what catch-up allows",
          "[engine][schedule][pause]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), R"(
jobs:
  hourly:
    schedule: "0 * * * *"
    catchup: none
    tasks: {t: {type: noop}}
  daily:
    schedule: "0 0 * * *"
    paused: true
    tasks: {t: {type: noop}}
)");
    core::manual_clock& clock = f.use_manual_clock(at("2026-01-01T00:10:00Z"));
    f.start();
    REQUIRE(f.engine().set_paused("hourly", true).value());
    CHECK_FALSE(f.engine().set_paused("nope", true).value());
    f.stop();
    clock.set(at("2026-01-03T05:30:00Z"));
    f.start();
    auto jobs = f.engine().jobs();
    for (const auto& j : jobs) {
        CHECK(j.paused);
        CHECK_FALSE(j.next_fire.has_value());
    }
    REQUIRE(f.engine().set_paused("hourly", false).value());  // catchup none: no surprise run
    REQUIRE(f.engine().set_paused("daily", false).value());   // catchup latest: one run
    CHECK(test::engine_fixture::eventually([&] { return f.runs("daily").size() == 1; }));
    CHECK(logical_times(f.runs("daily")).at(0) == at("2026-01-03T00:00:00Z"));
    CHECK(f.runs("hourly").empty());
    // Audit events commit through the group-commit writer, after set_paused returns.
    CHECK(test::engine_fixture::eventually([&] { return f.events("job.unpaused").size() == 2; }));
    CHECK(f.events("job.paused").size() == 1);
    CHECK(f.events("job.unpaused").size() == 2);
    jobs = f.engine().jobs();
    for (const auto& j : jobs) {
        CHECK_FALSE(j.paused);
        CHECK(j.next_fire.has_value());
    }
}

TEST_CASE("concurrency forbid skips ticks while a run is active",
          "[engine][schedule][concurrency]") {
    test::sqlite_database db;
    auto options = test::engine_fixture::default_options();
    options.shutdown_grace = 50ms;
    test::engine_fixture f(db.url(), R"(
jobs:
  slow:
    schedule: "* * * * * *"
    concurrency: forbid
    tasks: {t: {type: noop}}
)",
                           options);
    f.script().set("t", {fake_step::hang()});
    f.start();
    CHECK(
        test::engine_fixture::eventually([&] { return f.events("run.skipped").size() >= 2; }, 5s));
    CHECK(f.runs("slow").size() == 1);
}

TEST_CASE("concurrency replace cancels the active run for the new tick",
          "[engine][schedule][concurrency]") {
    test::sqlite_database db;
    auto options = test::engine_fixture::default_options();
    options.shutdown_grace = 50ms;
    test::engine_fixture f(db.url(), R"(
jobs:
  fresh:
    schedule: "* * * * * *"
    concurrency: replace
    tasks: {t: {type: noop}}
)",
                           options);
    f.script().set("t", {fake_step::hang()});
    f.start();
    CHECK(test::engine_fixture::eventually(
        [&] {
            auto runs = f.runs("fresh");
            return runs.size() >= 2 && std::any_of(runs.begin(), runs.end(), [](const auto& r) {
                       return r.state == run_state::canceled;
                   });
        },
        5s));
    auto runs = f.runs("fresh");  // newest first
    auto oldest = runs.back();
    CHECK(oldest.state == run_state::canceled);
    CHECK(f.tasks(oldest.id)["t"].state == task_state::canceled);
    auto attempts = f.script().attempts();
    REQUIRE_FALSE(attempts.empty());
    CHECK(attempts[0].stop_reason == "canceled");
}

TEST_CASE("an engine without schedules fires no ticks but runs triggers", "[engine][schedule]") {
    test::sqlite_database db;
    auto options = test::engine_fixture::default_options();
    options.run_schedules = false;
    test::engine_fixture f(db.url(), R"(
jobs:
  tick:
    schedule: "* * * * * *"
    catchup: all
    tasks: {t: {type: noop}}
)",
                           options);
    core::manual_clock& clock = f.use_manual_clock(at("2026-01-01T00:00:00Z"));
    f.start();
    f.stop();
    clock.set(at("2026-01-01T00:00:30Z"));
    f.start();
    core::run_id run = f.trigger("tick");
    CHECK(f.wait(run).state == run_state::success);
    auto runs = f.runs("tick");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].trigger == scheduler::trigger_kind::manual);
    for (const auto& j : f.engine().jobs()) {
        CHECK_FALSE(j.next_fire.has_value());
    }
}
