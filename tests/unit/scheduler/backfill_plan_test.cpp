#include <catch2/catch.hpp>

#include "core/time.hpp"
#include "scheduler/backfill.hpp"
#include "scheduler/cron/cron_expression.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::backfill_order;
using scheduler::interval_status;
using scheduler::reprocess_mode;
using scheduler::run_state;

namespace {

core::sys_seconds at(const char* rfc3339) {
    return core::parse_rfc3339(rfc3339).value();
}

scheduler::next_tick_fn schedule(const char* text, const char* zone = "UTC") {
    auto cron = scheduler::cron_expression::parse(text).value();
    const date::time_zone* z = core::find_time_zone(zone).value();
    return [cron, z](core::sys_seconds after) { return cron.next(after, z); };
}

}  // namespace

TEST_CASE("backfill intervals are the whole schedule intervals inside [from, to)", "[backfill]") {
    auto hourly = schedule("0 * * * *");
    auto iv =
        scheduler::plan_backfill_intervals(hourly, at("2026-01-01T00:00:00Z"),
                                           at("2026-01-01T03:00:00Z"), backfill_order::oldest_first)
            .value();
    REQUIRE(iv.size() == 3);
    CHECK(iv[0].logical_time == at("2026-01-01T01:00:00Z"));
    CHECK(iv[0].data_interval_start == at("2026-01-01T00:00:00Z"));
    CHECK(iv[0].data_interval_end == at("2026-01-01T01:00:00Z"));
    CHECK(iv[2].logical_time == at("2026-01-01T03:00:00Z"));

    // Unaligned edges: the partial intervals are left out.
    iv =
        scheduler::plan_backfill_intervals(hourly, at("2026-01-01T00:30:00Z"),
                                           at("2026-01-01T03:59:59Z"), backfill_order::newest_first)
            .value();
    REQUIRE(iv.size() == 2);
    CHECK(iv[0].logical_time == at("2026-01-01T03:00:00Z"));
    CHECK(iv[1].logical_time == at("2026-01-01T02:00:00Z"));
    CHECK(iv[1].data_interval_start == at("2026-01-01T01:00:00Z"));
}

TEST_CASE("backfill intervals follow the job's time zone across DST", "[backfill]") {
    // Europe/Berlin springs forward on 2026-03-29: that day is 23 hours long.
    auto daily = schedule("0 0 * * *", "Europe/Berlin");
    auto iv =
        scheduler::plan_backfill_intervals(daily, at("2026-03-27T23:00:00Z"),
                                           at("2026-03-30T22:00:00Z"), backfill_order::oldest_first)
            .value();
    REQUIRE(iv.size() == 3);
    CHECK(iv[0].data_interval_end - iv[0].data_interval_start == 24h);
    CHECK(iv[1].data_interval_start == at("2026-03-28T23:00:00Z"));
    CHECK(iv[1].data_interval_end == at("2026-03-29T22:00:00Z"));
    CHECK(iv[1].data_interval_end - iv[1].data_interval_start == 23h);
}

TEST_CASE("backfill ranges that are empty, partial or too long are refused", "[backfill]") {
    auto hourly = schedule("0 * * * *");
    auto empty = scheduler::plan_backfill_intervals(hourly, at("2026-01-01T03:00:00Z"),
                                                    at("2026-01-01T03:00:00Z"),
                                                    backfill_order::oldest_first);
    REQUIRE_FALSE(empty.has_value());
    CHECK_THAT(empty.error().message, Catch::Contains("is empty"));
    auto partial = scheduler::plan_backfill_intervals(hourly, at("2026-01-01T03:10:00Z"),
                                                      at("2026-01-01T04:10:00Z"),
                                                      backfill_order::oldest_first);
    REQUIRE_FALSE(partial.has_value());
    CHECK_THAT(partial.error().message, Catch::Contains("no complete schedule interval"));
    // 10,000 hourly intervals are allowed, one more is not.
    const auto from = at("2026-01-01T00:00:00Z");
    CHECK(scheduler::plan_backfill_intervals(hourly, from, from + 10'000h,
                                             backfill_order::oldest_first)
              ->size() == scheduler::max_backfill_runs);
    auto too_long = scheduler::plan_backfill_intervals(hourly, from, from + 10'001h,
                                                       backfill_order::oldest_first);
    REQUIRE_FALSE(too_long.has_value());
    CHECK_THAT(too_long.error().message, Catch::Contains("more than 10000"));
}

TEST_CASE("reprocess modes decide from the strongest state of an interval's runs", "[backfill]") {
    auto fold = [](std::initializer_list<run_state> states) {
        interval_status s = interval_status::no_run;
        for (run_state r : states) {
            s = scheduler::fold_interval_status(s, r);
        }
        return s;
    };
    CHECK(fold({}) == interval_status::no_run);
    CHECK(fold({run_state::canceled}) == interval_status::canceled);
    CHECK(fold({run_state::failed, run_state::canceled}) == interval_status::failed);
    CHECK(fold({run_state::timed_out}) == interval_status::failed);
    CHECK(fold({run_state::failed, run_state::success}) == interval_status::succeeded);
    CHECK(fold({run_state::success, run_state::running}) == interval_status::in_flight);
    CHECK(fold({run_state::queued}) == interval_status::in_flight);

    using enum interval_status;
    struct row {
        interval_status status;
        bool none, failed, all;
    };
    for (const row& r : {row{no_run, true, true, true}, row{canceled, true, true, true},
                         row{failed, false, true, true}, row{succeeded, false, false, true},
                         row{in_flight, false, false, false}}) {
        INFO(scheduler::to_string(r.status));
        CHECK(scheduler::should_run_interval(reprocess_mode::none, r.status) == r.none);
        CHECK(scheduler::should_run_interval(reprocess_mode::failed, r.status) == r.failed);
        CHECK(scheduler::should_run_interval(reprocess_mode::all, r.status) == r.all);
    }
    CHECK(scheduler::parse_reprocess_mode("failed") == reprocess_mode::failed);
    CHECK_FALSE(scheduler::parse_reprocess_mode("completed"));
    CHECK(scheduler::parse_backfill_order("newest_first") == backfill_order::newest_first);
    CHECK(scheduler::to_string(scheduler::backfill_state::canceled) == "canceled");
    CHECK(scheduler::backfill_run_key(core::backfill_id{7}, at("2026-01-01T01:00:00Z")) ==
          "backfill:7:2026-01-01T01:00:00Z");
}
