// Invalid expressions: the exact message (naming the field) and the offending token's offset and
// length, which config/ turns into a FILE:LINE:COL pointing into the schedule string.

#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/cron/cron_test_support.hpp"

using sluice::scheduler::testing::parse_error;

namespace {

struct error_case {
    const char* expr;
    const char* message;
    std::size_t offset;
    std::size_t length;
};

void check_errors(const std::vector<error_case>& cases) {
    for (const auto& c : cases) {
        INFO("expression: '" << c.expr << "'");
        const auto e = parse_error(c.expr);
        CHECK(e.message == c.message);
        CHECK(e.offset == c.offset);
        CHECK(e.length == c.length);
    }
}

}  // namespace

TEST_CASE("wrong field counts", "[cron][errors]") {
    check_errors({
        {"",
         "empty expression: expected 5, 6 or 7 fields (minute hour day-of-month month "
         "day-of-week) or a macro such as @daily",
         0, 1},
        {"   ",
         "empty expression: expected 5, 6 or 7 fields (minute hour day-of-month month "
         "day-of-week) or a macro such as @daily",
         0, 3},
        {"* * * *",
         "expected 5 fields (minute hour day-of-month month day-of-week), 6 (with "
         "leading seconds) or 7 (with trailing year), got 4",
         0, 7},
        {"  0 0 1",
         "expected 5 fields (minute hour day-of-month month day-of-week), 6 (with "
         "leading seconds) or 7 (with trailing year), got 3",
         2, 5},
        {"* * * * * * * *", "expected 5, 6 or 7 fields, got 8", 14, 1},
        {"0 0 0 1 1 * 2030 x y", "expected 5, 6 or 7 fields, got 9", 17, 3},
    });
}

TEST_CASE("values out of range name the field", "[cron][errors]") {
    check_errors({
        {"60 * * * *", "minute: 60 is out of range 0-59", 0, 2},
        {"* 24 * * *", "hour: 24 is out of range 0-23", 2, 2},
        {"* * 0 * *", "day-of-month: 0 is out of range 1-31", 4, 1},
        {"0 0 32 * *", "day-of-month: 32 is out of range 1-31", 4, 2},
        {"* * * 13 *", "month: 13 is out of range 1-12", 6, 2},
        {"* * * 0 *", "month: 0 is out of range 1-12", 6, 1},
        {"* * * * 8", "day-of-week: 8 is out of range 0-7", 8, 1},
        {"60 * * * * *", "second: 60 is out of range 0-59", 0, 2},
        {"0 0 0 1 1 * 1969", "year: 1969 is out of range 1970-2199", 12, 4},
        {"0 0 0 1 1 * 2200", "year: 2200 is out of range 1970-2199", 12, 4},
        {"0 0 1-40 * *", "day-of-month: 40 is out of range 1-31", 6, 2},
        {"0 0,5,99 * * *", "hour: 99 is out of range 0-23", 6, 2},
        {"99999999999999 * * * *", "minute: 99999999999999 is out of range 0-59", 0, 14},
        {"0 0 32W * *", "day-of-month: 32 is out of range 1-31", 4, 2},
        {"0 0 * * 9#2", "day-of-week: 9 is out of range 0-7", 8, 1},
    });
}

TEST_CASE("ranges and steps", "[cron][errors]") {
    check_errors({
        {"5-1 * * * *",
         "minute: range 5-1 is reversed (ranges do not wrap around; split it into two ranges, "
         "e.g. 5-59,0-1)",
         0, 3},
        {"0 22-2 * * *",
         "hour: range 22-2 is reversed (ranges do not wrap around; split it into two ranges, "
         "e.g. 22-23,0-2)",
         2, 4},
        {"0 0 * * 6-0",
         "day-of-week: range 6-0 is reversed (ranges do not wrap around; use 7 for Sunday at the "
         "end of a range, e.g. 6-7)",
         8, 3},
        {"0 0 * NOV-FEB *",
         "month: range NOV-FEB is reversed (ranges do not wrap around; split it into two ranges, "
         "e.g. 11-12,1-2)",
         6, 7},
        {"*/0 * * * *", "minute: step must be at least 1, got 0", 2, 1},
        {"0 0-23/0 * * *", "hour: step must be at least 1, got 0", 7, 1},
        {"*/61 * * * *", "minute: step 61 is larger than the field's range 0-59", 2, 2},
        {"0 */25 * * *", "hour: step 25 is larger than the field's range 0-23", 4, 2},
        {"0 0 * * */8", "day-of-week: step 8 is larger than the field's range 0-6", 10, 1},
        {"5/ * * * *", "minute: missing step after '/'", 1, 1},
        {"5-10/x * * * *", "minute: unexpected 'x'", 5, 1},
        {"1-2-3 * * * *", "minute: unexpected '-'", 3, 1},
        {"5- * * * *", "minute: expected a value 0-59 after '5-'", 1, 1},
        {"*5 * * * *", "minute: unexpected '5'", 1, 1},
        {"*-5 * * * *", "minute: unexpected '-'", 1, 1},
        {"/5 * * * *", "minute: unexpected '/'", 0, 1},
    });
}

TEST_CASE("lists", "[cron][errors]") {
    check_errors({
        {"1,,2 * * * *", "minute: empty list item", 2, 1},
        {"1, * * * *", "minute: empty list item", 1, 1},
        {",1 * * * *", "minute: empty list item", 0, 1},
        {"0 0 1,32 * *", "day-of-month: 32 is out of range 1-31", 6, 2},
    });
}

TEST_CASE("names", "[cron][errors]") {
    check_errors({
        {"* * * JANUARY *", "month: unknown month 'JANUARY' (expected 1-12 or JAN, FEB, ..., DEC)",
         6, 7},
        {"* * * * FOO", "day-of-week: unknown weekday 'FOO' (expected 0-7 or SUN, MON, ..., SAT)",
         8, 3},
        {"a * * * *", "minute: expected a number 0-59, got 'a'", 0, 1},
        {"0 0 MON * *", "day-of-month: expected a number 1-31, got 'MON'", 4, 3},
        {"0 0 * * JAN", "day-of-week: unknown weekday 'JAN' (expected 0-7 or SUN, MON, ..., SAT)",
         8, 3},
        {"0 0 * MON *", "month: unknown month 'MON' (expected 1-12 or JAN, FEB, ..., DEC)", 6, 3},
        {"0 0 * * MONDAY",
         "day-of-week: unknown weekday 'MONDAY' (expected 0-7 or SUN, MON, ..., SAT)", 8, 6},
    });
}

TEST_CASE("L, W, # and + in the wrong place", "[cron][errors]") {
    check_errors({
        {"* L * * *", "hour: 'L' is only allowed in the day-of-month and day-of-week fields", 2, 1},
        {"L * * * *", "minute: 'L' is only allowed in the day-of-month and day-of-week fields", 0,
         1},
        {"0 0 * L *", "month: 'L' is only allowed in the day-of-month and day-of-week fields", 6,
         1},
        {"* * 5L * *", "day-of-month: 'L' must stand alone in day-of-month: L, L-n or LW", 5, 1},
        {"* * * * L",
         "day-of-week: 'L' in day-of-week needs a weekday before it, e.g. 5L or FRIL (the last "
         "Friday of the month)",
         8, 1},
        {"* * LX * *", "day-of-month: unexpected 'X'", 5, 1},
        {"* * L-0 * *", "day-of-month: L-0 is out of range (n in L-n must be 1-30)", 6, 1},
        {"* * L-31 * *", "day-of-month: L-31 is out of range (n in L-n must be 1-30)", 6, 2},
        {"* * L- * *", "day-of-month: expected a number of days after 'L-', e.g. L-2", 4, 2},
        {"* 5W * * *", "hour: 'W' is only allowed after a single day in the day-of-month field", 3,
         1},
        {"0 0 * * 5W",
         "day-of-week: 'W' is only allowed after a single day in the day-of-month "
         "field",
         9, 1},
        {"* * 1-5W * *", "day-of-month: 'W' cannot follow a range; it applies to a single value", 4,
         4},
        {"* * 1W-5 * *", "day-of-month: unexpected '-'", 6, 1},
        {"* * * 3# *", "month: '#' is only allowed after a single weekday in the day-of-week field",
         7, 1},
        {"0 0 1#2 * *",
         "day-of-month: '#' is only allowed after a single weekday in the day-of-week field", 5, 1},
        {"* * * * MON-FRI#2",
         "day-of-week: '#' cannot follow a range; it applies to a single value", 8, 8},
        {"* * * * 1-5L", "day-of-week: 'L' cannot follow a range; it applies to a single value", 8,
         4},
        {"* * * * MON#6",
         "day-of-week: occurrence 6 is out of range 1-5 (e.g. MON#2 is the second Monday)", 12, 1},
        {"* * * * 1#0",
         "day-of-week: occurrence 0 is out of range 1-5 (e.g. MON#2 is the second Monday)", 10, 1},
        {"* * * * 5#", "day-of-week: expected an occurrence 1-5 or L after '#'", 9, 1},
        {"* * * * 5#X", "day-of-week: unexpected 'X'", 10, 1},
        {"* * * * +", "day-of-week: '+' must be followed by weekdays, e.g. +MON", 8, 1},
        {"+5 * * * *", "minute: '+' is only allowed at the start of the day-of-week field", 0, 1},
        {"0 0 +1 * MON", "day-of-month: '+' is only allowed at the start of the day-of-week field",
         4, 1},
        {"0 0 * * MON+", "day-of-week: '+' is only allowed at the start of the day-of-week field",
         11, 1},
        {"0 0 * * ++MON", "day-of-week: '+' is only allowed at the start of the day-of-week field",
         9, 1},
        {"0 0 * * 5##2", "day-of-week: unexpected '#'", 10, 1},
        {"0 0 * * 5#2/2", "day-of-week: unexpected '/'", 11, 1},
        {"0 0 * * 5L#2", "day-of-week: unexpected '#'", 10, 1},
        {"0 0 15WW * *", "day-of-month: unexpected 'W'", 7, 1},
    });
}

TEST_CASE("macros and @every", "[cron][errors]") {
    check_errors({
        {"@reboot",
         "unknown macro '@reboot' (expected @yearly, @annually, @monthly, @weekly, @daily, "
         "@midnight, @hourly or @every DURATION)",
         0, 7},
        {"  @dayly",
         "unknown macro '@dayly' (expected @yearly, @annually, @monthly, @weekly, @daily, "
         "@midnight, @hourly or @every DURATION)",
         2, 6},
        {"@daily x", "@daily takes no arguments, got 'x'", 7, 1},
        {"@every", "@every: missing interval, e.g. @every 15m", 0, 6},
        {"@every 500ms",
         "@every: the interval must be a whole number of seconds, at least 1s (got 500ms)", 7, 5},
        {"@every 1500ms",
         "@every: the interval must be a whole number of seconds, at least 1s (got 1500ms)", 7, 6},
        {"@every 0s",
         "@every: the interval must be a whole number of seconds, at least 1s (got 0s)", 7, 2},
        {"@every 15m 5m", "@every: expected one interval, got extra text '5m'", 11, 2},
        {"@ * * * *",
         "unknown macro '@' (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
         "@hourly or @every DURATION)",
         0, 1},
    });
    const auto e = parse_error("@every 1x");
    CHECK(e.message.rfind("@every: invalid duration '1x'", 0) == 0);
    CHECK(e.offset == 7);
    CHECK(e.length == 2);
}

TEST_CASE("value() on a rejected expression throws with the message", "[cron][errors]") {
    const auto r = sluice::scheduler::cron_expression::parse("0 0 32 * *");
    CHECK_THROWS_WITH(r.value(),
                      "invalid cron expression: day-of-month: 32 is out of range 1-31 "
                      "(at offset 4)");
}
