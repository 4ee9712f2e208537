// Accepted syntax: whitespace, case, text(), the fixed-time classification behind the DST rules.

#include <catch2/catch.hpp>

#include "tests/unit/cron/cron_test_support.hpp"

using sluice::scheduler::cron_expression;
using sluice::scheduler::testing::parsed;

TEST_CASE("every syntax feature parses", "[cron][parse]") {
    for (const char* expr : {"* * * * *",
                             "0 0 * * *",
                             "*/5 * * * *",
                             "0-59/15 * * * *",
                             "5/10 * * * *",
                             "1,2,3-5,10-20/5 * * * *",
                             "0 0 1 JAN-DEC SUN-SAT",
                             "0 0 1 jan,Feb,MAR mon,Tue",
                             "0 0 ? * ?",
                             "0 0 L * *",
                             "0 0 L-3 * *",
                             "0 0 LW * *",
                             "0 0 15W * *",
                             "0 0 1,L,15W * *",
                             "0 0 * * 5L",
                             "0 0 * * FRIL",
                             "0 0 * * 5#L",
                             "0 0 * * MON#2",
                             "0 0 * * 1#1,5#5",
                             "0 0 1 * +MON",
                             "0 0 * * 0,7",
                             "0 0 * * FRI-SUN",
                             "* * * * * *",
                             "0 0 0 1 1 * 2030",
                             "0 0 0 1 1 * 2030-2040/2",
                             "0 0 0 1 1 * *",
                             "@yearly",
                             "@annually",
                             "@monthly",
                             "@weekly",
                             "@daily",
                             "@midnight",
                             "@hourly",
                             "@every 15m",
                             "@every 1h30m",
                             "@every 1d",
                             "\t0  0\t*  * *  ",
                             " @DAILY "}) {
        INFO(expr);
        CHECK(cron_expression::parse(expr).has_value());
    }
}

TEST_CASE("text() keeps the expression as written", "[cron][parse]") {
    CHECK(parsed(" 0  2 * * * ").text() == " 0  2 * * * ");
    CHECK(parsed("@daily").text() == "@daily");
    CHECK(parsed("@every 15m").every() == std::chrono::minutes{15});
    CHECK(parsed("0 2 * * *").every() == std::chrono::seconds{0});
}

TEST_CASE("fixed-time means one value in second, minute and hour, without * ? or /",
          "[cron][parse]") {
    for (const char* expr :
         {"30 2 * * *", "0 0 * * *", "@daily", "@weekly", "@monthly", "@yearly", "5 30 2 * * *",
          "2-2 2 * * *", "2,2 2 * * *", "0 0 L * *", "0 0 * * MON#2"}) {
        INFO(expr);
        CHECK(parsed(expr).is_fixed_time());
    }
    for (const char* expr :
         {"* 2 * * *", "30 * * * *", "*/30 2 * * *", "30 2,3 * * *", "30 2-3 * * *", "@hourly",
          "* 30 2 * * *", "0/60 30 2 * * *", "30 ? * * *", "0 */24 * * *", "@every 1d"}) {
        INFO(expr);
        CHECK_FALSE(parsed(expr).is_fixed_time());
    }
}

TEST_CASE("expressions are values: copies behave the same", "[cron][parse]") {
    const auto a = parsed("0 0 L * *");
    const auto b = a;  // NOLINT(performance-unnecessary-copy-initialization)
    const auto t = sluice::scheduler::testing::at("2026-01-01T00:00:00Z");
    CHECK(a.next(t, nullptr) == b.next(t, nullptr));
    CHECK(b.text() == "0 0 L * *");
}
