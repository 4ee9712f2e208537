#include <catch2/catch.hpp>

#include "tests/unit/cron/cron_test_support.hpp"

using sluice::scheduler::testing::parsed;

TEST_CASE("describe() says the schedule in plain words", "[cron][describe]") {
    const std::pair<const char*, const char*> cases[] = {
        {"30 2 L * *", "at 02:30 on the last day of every month"},
        {"0 2 * * *", "at 02:00 every day"},
        {"@daily", "at 00:00 every day"},
        {"*/15 * * * *", "every 15 minutes"},
        {"* * * * *", "every minute"},
        {"* * * * * *", "every second"},
        {"*/5 * * * * *", "every 5 seconds"},
        {"0 * * * *", "at minute 0"},
        {"0 */2 * * *", "at minute 0, every 2 hours"},
        {"0 9-17 * * MON-FRI",
         "at minute 0, during the hours 09:00 through 17:00 on Monday "
         "through Friday"},
        {"0,30 * * * *", "every 30 minutes"},
        {"0,20 * * * *", "at minutes 0 and 20"},
        {"30 15 2 * * *", "at 02:15:30 every day"},
        {"0 0 1 * *", "at 00:00 on day 1 of every month"},
        {"0 0 1,15 * *", "at 00:00 on days 1 and 15 of every month"},
        {"0 0 L-2 * *", "at 00:00 on 2 days before the last day of every month"},
        {"0 0 LW * *", "at 00:00 on the last weekday of every month"},
        {"0 0 15W * *", "at 00:00 on the weekday nearest the 15th of every month"},
        {"0 0 * * 5L", "at 00:00 on the last Friday of every month"},
        {"0 0 * * MON#2", "at 00:00 on the second Monday of every month"},
        {"0 12 * NOV THU#4", "at 12:00 on the fourth Thursday of the month in November"},
        {"0 0 13 * FRI", "at 00:00 on day 13 of every month and on Friday"},
        {"0 0 13 * +FRI", "at 00:00 on day 13 of every month if it is also a Friday"},
        {"0 0 1 1 *", "at 00:00 on day 1 of the month in January"},
        {"0 0 * 3 *", "at 00:00 in March"},
        {"0 0 0 1 1 * 2030", "at 00:00 on day 1 of the month in January in 2030"},
        {"0 0 0 1 1 * 2030-2035", "at 00:00 on day 1 of the month in January in 2030 through 2035"},
        {"@every 15m",
         "every 15m (at multiples of the interval since 1970-01-01T00:00:00Z, in any "
         "time zone)"},
    };
    for (const auto& [expr, words] : cases) {
        INFO(expr);
        CHECK(parsed(expr).describe() == words);
    }
}
