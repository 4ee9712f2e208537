// next() throughput for typical expressions in UTC and in Europe/Berlin. Each iteration advances
// from the previous fire time, as the scheduler's timer loop does. Target: >= 1M next()/s.

#include <chrono>

#include <benchmark/benchmark.h>
#include <date/tz.h>

#include "scheduler/cron/cron_expression.hpp"

namespace {

using sluice::scheduler::cron_expression;

void run(benchmark::State& state, const char* expr, const char* zone_name) {
    const cron_expression e = cron_expression::parse(expr).value();
    const date::time_zone* zone = zone_name == nullptr ? nullptr : date::locate_zone(zone_name);
    const auto start = std::chrono::sys_seconds{std::chrono::seconds{1767225600}};  // 2026-01-01
    auto t = start;
    for (auto _ : state) {
        auto next = e.next(t, zone);
        if (!next || *next > start + std::chrono::hours{24 * 365 * 10}) {
            next = start;  // wrap around so that long runs stay in a realistic range
        }
        t = *next;
        benchmark::DoNotOptimize(t);
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(run, every_15_minutes_utc, "*/15 * * * *", nullptr);
BENCHMARK_CAPTURE(run, every_15_minutes_berlin, "*/15 * * * *", "Europe/Berlin");
BENCHMARK_CAPTURE(run, daily_0200_utc, "0 2 * * *", nullptr);
BENCHMARK_CAPTURE(run, daily_0200_berlin, "0 2 * * *", "Europe/Berlin");
BENCHMARK_CAPTURE(run, last_day_of_month_utc, "0 0 L * *", nullptr);
BENCHMARK_CAPTURE(run, last_day_of_month_berlin, "0 0 L * *", "Europe/Berlin");
BENCHMARK_CAPTURE(run, weekdays_9_to_17_berlin, "0 9-17 * * MON-FRI", "Europe/Berlin");
BENCHMARK_CAPTURE(run, second_monday_berlin, "30 2 * * MON#2", "Europe/Berlin");
BENCHMARK_CAPTURE(run, every_second_new_york, "* * * * * *", "America/New_York");
BENCHMARK_CAPTURE(run, feb_29_utc, "0 0 29 2 *", nullptr);
BENCHMARK_CAPTURE(run, year_2040_berlin, "0 0 0 1 1 * 2040", "Europe/Berlin");

BENCHMARK_MAIN();
