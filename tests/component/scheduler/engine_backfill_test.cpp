// Backfills in the engine: one run per interval in either order under the backfill's
// max_active_runs, reprocess modes, dry runs, pause/resume/cancel, and continuing after a crash
// with every interval run exactly once.

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "core/time.hpp"
#include "tests/component/scheduler/engine_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::backfill_order;
using scheduler::backfill_state;
using scheduler::reprocess_mode;
using scheduler::run_state;
using test::fake_step;

namespace {

core::sys_seconds at(const char* rfc3339) {
    return core::parse_rfc3339(rfc3339).value();
}

// Backfills are driven by their own runs: schedules stay off so no scheduled tick interferes.
scheduler::engine_options no_schedules() {
    auto options = test::engine_fixture::default_options();
    options.run_schedules = false;
    return options;
}

const char* hourly_job = R"(
jobs:
  hourly:
    schedule: "0 * * * *"
    tasks:
      t: {type: noop, retries: {max_attempts: 3, delay: 10ms}}
  manual_only:
    tasks:
      t: {type: noop}
  every_second:
    schedule: "* * * * * *"
    tasks:
      t: {type: noop}
)";

scheduler::backfill_request request(const char* from, const char* to,
                                    backfill_order order = backfill_order::oldest_first,
                                    int max_active = 1,
                                    reprocess_mode reprocess = reprocess_mode::none) {
    scheduler::backfill_request r;
    r.job = "hourly";
    r.from = at(from);
    r.to = at(to);
    r.order = order;
    r.max_active_runs = max_active;
    r.reprocess = reprocess;
    r.actor = "test";
    return r;
}

core::backfill_id start_backfill(test::engine_fixture& f, scheduler::backfill_request r) {
    auto created = f.engine().create_backfill(std::move(r));
    if (!created) {
        FAIL("create_backfill: " << created.error().message);
    }
    REQUIRE(created->backfill);
    return created->backfill->id;
}

scheduler::backfill_record wait_backfill(test::engine_fixture& f, core::backfill_id id,
                                         std::chrono::milliseconds limit = 20s) {
    std::optional<scheduler::backfill_record> b;
    const bool done = test::engine_fixture::eventually(
        [&] {
            auto r = f.store().get_backfill(id);
            b = r ? *r : std::nullopt;
            return b && scheduler::is_terminal(b->state);
        },
        limit);
    REQUIRE(b);
    INFO("backfill state " << scheduler::to_string(b->state));
    REQUIRE(done);
    return *b;
}

// The backfill's runs in creation order.
std::vector<scheduler::run_record> backfill_runs(test::engine_fixture& f, core::backfill_id id) {
    std::vector<scheduler::run_record> out;
    for (const auto& r : f.runs("hourly")) {
        if (r.backfill == id) {
            out.push_back(r);
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}

std::string hour_of(const std::optional<core::time_point>& t) {
    return t ? core::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(*t)).substr(11, 2)
             : "-";
}

std::vector<std::string> hours(const std::vector<scheduler::run_record>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) {
        out.push_back(hour_of(r.logical_time));
    }
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("a backfill runs every interval once, oldest first, within max_active_runs",
                   "[engine][backfill]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), hourly_job, no_schedules());
    f.script().set("t", {fake_step::sleep_for(100ms)});
    f.start();
    auto id = start_backfill(f, request("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z",
                                        backfill_order::oldest_first, 2));
    auto b = wait_backfill(f, id);
    CHECK(b.state == backfill_state::success);
    CHECK(b.planned == 6);
    CHECK(b.steps == 6);
    CHECK(b.skipped == 0);
    CHECK(b.runs.created == 6);
    CHECK(b.runs.succeeded == 6);
    auto runs = backfill_runs(f, id);
    CHECK(hours(runs) == std::vector<std::string>{"01", "02", "03", "04", "05", "06"});
    for (const auto& r : runs) {
        CHECK(r.trigger == scheduler::trigger_kind::backfill);
        CHECK(r.state == run_state::success);
        REQUIRE(r.data_interval_start);
        CHECK(*r.data_interval_end - *r.data_interval_start == 1h);
        CHECK(r.logical_time == r.data_interval_end);
    }
    CHECK(f.script().max_concurrent() == 2);
    // The backfill's state changes are events (SSE, audit).
    CHECK(test::engine_fixture::eventually([&] { return f.events("backfill.state").size() == 2; }));
    f.stop();
}

TEST_CASE("a newest_first backfill creates its runs from the newest interval back",
          "[engine][backfill]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), hourly_job, no_schedules());
    f.start();
    auto id = start_backfill(
        f, request("2026-01-01T00:30:00Z", "2026-01-01T05:10:00Z", backfill_order::newest_first));
    CHECK(wait_backfill(f, id).state == backfill_state::success);
    // Only whole intervals inside the range: [01,02) .. [04,05).
    CHECK(hours(backfill_runs(f, id)) == std::vector<std::string>{"05", "04", "03", "02"});
    CHECK(f.script().max_concurrent() == 1);
    f.stop();
}

TEST_CASE("reprocess none, failed and all decide which intervals run again", "[engine][backfill]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), hourly_job, no_schedules());
    f.start();
    f.script().set("t", {fake_step::permanent()});
    auto failing = start_backfill(f, request("2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z"));
    auto b = wait_backfill(f, failing);
    CHECK(b.state == backfill_state::failed);
    CHECK(b.runs.failed == 3);

    f.script().set("t", {fake_step::ok()});
    auto none = start_backfill(f, request("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z"));
    b = wait_backfill(f, none);
    CHECK(b.state == backfill_state::success);
    CHECK(b.skipped == 3);
    CHECK(hours(backfill_runs(f, none)) == std::vector<std::string>{"04", "05", "06"});

    // A dry run shows what `failed` would do and creates nothing.
    auto dry = request("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z", backfill_order::oldest_first,
                       1, reprocess_mode::failed);
    dry.dry_run = true;
    const auto runs_before = f.runs("hourly").size();
    auto plan = f.engine().create_backfill(dry);
    REQUIRE(plan.has_value());
    CHECK_FALSE(plan->backfill);
    REQUIRE(plan->runs.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) {
        INFO(i);
        CHECK(plan->runs[i].skip == (i >= 3));
        CHECK(plan->runs[i].existing ==
              (i < 3 ? scheduler::interval_status::failed : scheduler::interval_status::succeeded));
        CHECK(plan->runs[i].interval.data_interval_end -
                  plan->runs[i].interval.data_interval_start ==
              1h);
    }
    CHECK(f.runs("hourly").size() == runs_before);

    auto failed =
        start_backfill(f, request("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z",
                                  backfill_order::oldest_first, 1, reprocess_mode::failed));
    CHECK(wait_backfill(f, failed).state == backfill_state::success);
    CHECK(hours(backfill_runs(f, failed)) == std::vector<std::string>{"01", "02", "03"});

    auto all = start_backfill(f, request("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z",
                                         backfill_order::oldest_first, 3, reprocess_mode::all));
    CHECK(wait_backfill(f, all).runs.succeeded == 6);
    f.stop();
}

TEST_CASE("pause stops new runs, resume continues, cancel cancels the running run",
          "[engine][backfill]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), hourly_job, no_schedules());
    f.script().set("t", {fake_step::sleep_for(300ms)});
    f.start();
    auto id = start_backfill(f, request("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"));
    REQUIRE(test::engine_fixture::eventually([&] { return backfill_runs(f, id).size() == 1; }));
    auto paused = f.engine().backfill_action_now(id, scheduler::backfill_action::pause);
    REQUIRE(paused.has_value());
    CHECK(paused->code == scheduler::run_op_status::code_t::ok);
    auto again = f.engine().backfill_action_now(id, scheduler::backfill_action::pause);
    REQUIRE(again.has_value());
    CHECK(again->code == scheduler::run_op_status::code_t::conflict);
    // The running run finishes; no new one starts while paused.
    REQUIRE(test::engine_fixture::eventually(
        [&] { return backfill_runs(f, id).front().state == run_state::success; }));
    std::this_thread::sleep_for(400ms);
    CHECK(backfill_runs(f, id).size() == 1);
    CHECK(f.store().get_backfill(id).value()->state == backfill_state::paused);

    f.script().set("t", {fake_step::hang()});
    REQUIRE(f.engine().backfill_action_now(id, scheduler::backfill_action::resume)->code ==
            scheduler::run_op_status::code_t::ok);
    REQUIRE(test::engine_fixture::eventually([&] {
        auto runs = backfill_runs(f, id);
        return runs.size() == 2 && runs.back().state == run_state::running;
    }));
    REQUIRE(f.engine().backfill_action_now(id, scheduler::backfill_action::cancel)->code ==
            scheduler::run_op_status::code_t::ok);
    auto b = wait_backfill(f, id);
    CHECK(b.state == backfill_state::canceled);
    REQUIRE(test::engine_fixture::eventually(
        [&] { return backfill_runs(f, id).back().state == run_state::canceled; }));
    std::this_thread::sleep_for(300ms);
    CHECK(backfill_runs(f, id).size() == 2);
    CHECK(f.engine().backfill_action_now(id, scheduler::backfill_action::resume)->code ==
          scheduler::run_op_status::code_t::conflict);
    CHECK(f.engine()
              .backfill_action_now(core::backfill_id{id.value + 100},
                                   scheduler::backfill_action::pause)
              ->code == scheduler::run_op_status::code_t::not_found);
    f.stop();
}

TEMPLATE_TEST_CASE("a backfill continues after a crash and runs every interval exactly once",
                   "[engine][backfill][recovery]", test::sqlite_database, test::postgres_database) {
    TestType db;
    test::engine_fixture f(db.url(), hourly_job, no_schedules());
    f.script().set("t", {fake_step::sleep_for(150ms)});
    f.start();
    auto id = start_backfill(f, request("2026-01-01T00:00:00Z", "2026-01-01T10:00:00Z",
                                        backfill_order::newest_first, 2));
    REQUIRE(test::engine_fixture::eventually([&] { return backfill_runs(f, id).size() >= 3; }));
    f.crash();
    f.start();
    auto b = wait_backfill(f, id);
    CHECK(b.state == backfill_state::success);
    auto runs = backfill_runs(f, id);
    auto h = hours(runs);
    CHECK(h ==
          std::vector<std::string>{"10", "09", "08", "07", "06", "05", "04", "03", "02", "01"});
    CHECK(std::set<std::string>(h.begin(), h.end()).size() == 10);
    CHECK(b.runs.succeeded == 10);
    f.stop();
}

TEST_CASE("backfill requests without a schedule, with an empty range or too many intervals fail",
          "[engine][backfill]") {
    test::sqlite_database db;
    test::engine_fixture f(db.url(), hourly_job, no_schedules());
    f.start();
    auto r = request("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z");
    r.job = "manual_only";
    auto no_schedule = f.engine().create_backfill(r);
    REQUIRE_FALSE(no_schedule.has_value());
    CHECK(no_schedule.error().code == scheduler::backfill_errc::bad_request);
    CHECK_THAT(no_schedule.error().message, Catch::Contains("has no schedule"));

    r.job = "nope";
    CHECK(f.engine().create_backfill(r).error().code == scheduler::backfill_errc::unknown_job);

    auto empty =
        f.engine().create_backfill(request("2026-01-01T06:00:00Z", "2026-01-01T06:00:00Z"));
    REQUIRE_FALSE(empty.has_value());
    CHECK_THAT(empty.error().message, Catch::Contains("is empty"));
    auto partial =
        f.engine().create_backfill(request("2026-01-01T06:10:00Z", "2026-01-01T06:50:00Z"));
    REQUIRE_FALSE(partial.has_value());
    CHECK_THAT(partial.error().message, Catch::Contains("no complete schedule interval"));

    r = request("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    r.job = "every_second";
    auto huge = f.engine().create_backfill(r);
    REQUIRE_FALSE(huge.has_value());
    CHECK_THAT(huge.error().message, Catch::Contains("more than 10000"));

    auto too_wide = request("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z");
    too_wide.max_active_runs = 65;
    CHECK(f.engine().create_backfill(too_wide).error().code ==
          scheduler::backfill_errc::bad_request);
    CHECK(f.store().list_backfills({}).value().empty());
    f.stop();
}
