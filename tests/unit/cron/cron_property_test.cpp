// Properties over 2000-2040 in every DST zone the hand-checked tests use, checked against the
// naive reference of cron_reference.cpp.

#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <date/date.h>
#include <date/tz.h>

#include "core/zone_offsets.hpp"
#include "tests/unit/cron/cron_reference.hpp"
#include "tests/unit/cron/cron_test_support.hpp"

using namespace std::chrono_literals;
using sluice::core::offset_at;
using sluice::scheduler::testing::local_time;
using sluice::scheduler::testing::parsed;
using sluice::scheduler::testing::reference_cron;
using sluice::scheduler::testing::to_local;
using sluice::scheduler::testing::zone;

namespace {

const char* const dst_zones[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                                 "America/Santiago", "Pacific/Chatham"};

local_time local_of(std::chrono::sys_seconds t, const date::time_zone* z) {
    return to_local(t, offset_at(z, t).offset);
}

bool is_transition(std::chrono::sys_seconds t, const date::time_zone* z) {
    return offset_at(z, t - 1s).offset != offset_at(z, t).offset;
}

std::int64_t local_day_number(const local_time& l) {
    return date::sys_days{date::year{l.year} / date::month{l.month} / date::day{l.day}}
        .time_since_epoch()
        .count();
}

// Every DST transition of a zone between two instants.
std::vector<std::chrono::sys_seconds> transitions(const date::time_zone* z,
                                                  std::chrono::sys_seconds from,
                                                  std::chrono::sys_seconds to) {
    std::vector<std::chrono::sys_seconds> out;
    for (auto t = from; t < to;) {
        const auto span = offset_at(z, t);
        if (span.end >= to) {
            break;
        }
        out.push_back(span.end);
        t = span.end;
    }
    return out;
}

const std::chrono::sys_seconds start{date::sys_days{date::year{2000} / 1 / 1}};
const std::chrono::sys_seconds end{date::sys_days{date::year{2041} / 1 / 1}};

}  // namespace

TEST_CASE("a fixed daily job fires exactly once per local day, 2000-2040", "[cron][property]") {
    for (const char* name : dst_zones) {
        const auto* z = zone(name);
        for (const char* expr :
             {"30 2 * * *", "0 0 * * *", "0 3 * * *", "45 2 * * *", "30 23 * * *", "15 1 * * *"}) {
            INFO(name << " " << expr);
            const auto e = parsed(expr);
            const auto ref = reference_cron::parse(expr).value();
            auto t = start;
            std::int64_t previous_day = 0;
            int fired = 0;
            while (true) {
                const auto next = e.next(t, z);
                REQUIRE(next.has_value());
                REQUIRE(*next > t);
                if (*next >= end) {
                    break;
                }
                const local_time l = local_of(*next, z);
                const std::int64_t d = local_day_number(l);
                if (fired > 0) {
                    REQUIRE(d == previous_day + 1);
                }
                // On time, or moved to the end of a gap that swallowed the scheduled time.
                if (!ref.matches(l)) {
                    REQUIRE(is_transition(*next, z));
                }
                previous_day = d;
                ++fired;
                t = *next;
            }
            CHECK(fired >= 14975);
        }
    }
}

TEST_CASE("fire times are increasing and match the expression, 2000-2040", "[cron][property]") {
    for (const char* name : dst_zones) {
        const auto* z = zone(name);
        for (const char* expr :
             {"0 * * * *", "*/20 1-3 * * *", "0 0 L * *", "30 2 15W * *", "0 12 * * 5L",
              "0 0 1 * MON", "0 30 2 * * SUN#1", "@weekly", "0 0 29 2 *", "*/7 2 * * *",
              "0 0 LW * *", "0 0 13 * +FRI", "0 1 * 3,4,9,10 SUN"}) {
            INFO(name << " " << expr);
            const auto e = parsed(expr);
            const auto ref = reference_cron::parse(expr).value();
            auto t = start;
            int fired = 0;
            while (true) {
                const auto next = e.next(t, z);
                REQUIRE(next.has_value());
                REQUIRE(*next > t);
                if (*next >= end) {
                    break;
                }
                const local_time l = local_of(*next, z);
                if (!ref.matches(l)) {
                    INFO(sluice::scheduler::testing::local(*next, z));
                    REQUIRE(e.is_fixed_time());
                    REQUIRE(is_transition(*next, z));
                    REQUIRE(ref.matches_day(l.year, l.month, l.day));
                }
                ++fired;
                t = *next;
            }
            CHECK(fired > 0);
        }
    }
}

namespace {

std::string random_field(std::mt19937& rng, int lo, int hi) {
    std::uniform_int_distribution<int> kind(0, 6);
    std::uniform_int_distribution<int> value(lo, hi);
    const int a = value(rng);
    const int b = std::uniform_int_distribution<int>(a, hi)(rng);
    const int step = std::uniform_int_distribution<int>(1, std::min(hi - lo + 1, 12))(rng);
    switch (kind(rng)) {
        case 0:
        case 1:
            return "*";
        case 2:
            return std::to_string(a);
        case 3:
            return std::to_string(a) + "-" + std::to_string(b);
        case 4:
            return "*/" + std::to_string(step);
        case 5:
            return std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(step);
        default:
            return std::to_string(a) + "," + std::to_string(value(rng));
    }
}

std::string random_expression(std::mt19937& rng, bool seconds) {
    std::uniform_int_distribution<int> pick(0, 9);
    // Wildcards in the calendar fields are favoured so that two-day windows see fire times.
    std::string dom = pick(rng) < 5 ? "*" : random_field(rng, 1, 31);
    const int d = pick(rng);
    if (d == 0)
        dom = "L";
    if (d == 1)
        dom = "LW";
    if (d == 2)
        dom = std::to_string(std::uniform_int_distribution<int>(1, 31)(rng)) + "W";
    std::string dow = pick(rng) < 4 ? "*" : random_field(rng, 0, 6);
    const int w = pick(rng);
    if (w == 0)
        dow = "5L";
    if (w == 1)
        dow = "MON#" + std::to_string(std::uniform_int_distribution<int>(1, 5)(rng));
    if (w == 2)
        dow = "+" + dow;
    // Hours near the transitions are favoured so that windows around them see fire times.
    const std::string hour =
        pick(rng) < 5 ? std::to_string(pick(rng) % 4) + "-3" : random_field(rng, 0, 23);
    std::string expr = random_field(rng, 0, 59) + " " + hour + " " + dom + " " +
                       (pick(rng) < 7 ? std::string("*") : random_field(rng, 1, 12)) + " " + dow;
    if (seconds) {
        expr = random_field(rng, 0, 59) + " " + expr;
    }
    return expr;
}

// The engine's fire times in [from, to).
std::vector<std::chrono::sys_seconds> engine_fires(const sluice::scheduler::cron_expression& e,
                                                   const date::time_zone* z,
                                                   std::chrono::sys_seconds from,
                                                   std::chrono::sys_seconds to) {
    std::vector<std::chrono::sys_seconds> out;
    auto t = from - 1s;
    while (true) {
        const auto next = e.next(t, z);
        if (!next || *next >= to) {
            return out;
        }
        out.push_back(*next);
        t = *next;
    }
}

// A naive scan: every instant (step 60 s or 1 s) whose local wall-clock time matches.
std::vector<std::chrono::sys_seconds> scanned_fires(const reference_cron& ref,
                                                    const date::time_zone* z,
                                                    std::chrono::sys_seconds from,
                                                    std::chrono::sys_seconds to,
                                                    std::chrono::seconds step) {
    std::vector<std::chrono::sys_seconds> out;
    for (auto t = from; t < to; t += step) {
        if (ref.matches(local_of(t, z))) {
            out.push_back(t);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("random interval expressions agree with a minute scan across DST transitions",
          "[cron][property]") {
    std::mt19937 rng(20260308);
    int compared = 0;
    for (const char* name : dst_zones) {
        const auto* z = zone(name);
        const auto all = transitions(z, start, end);
        REQUIRE(all.size() >= 70);
        for (int i = 0; i < 100; ++i) {
            const auto tr = all[std::uniform_int_distribution<std::size_t>(0, all.size() - 1)(rng)];
            const auto from = date::floor<std::chrono::minutes>(tr - 26h);
            const auto to = from + 48h;
            std::string expr;
            do {
                expr = random_expression(rng, false);
            } while (parsed(expr).is_fixed_time());
            INFO(name << " " << expr << " around " << sluice::scheduler::testing::local(tr, z));
            const auto ref = reference_cron::parse(expr).value();
            const auto expected = scanned_fires(ref, z, from, to, 60s);
            CHECK(engine_fires(parsed(expr), z, from, to) == expected);
            compared += expected.empty() ? 0 : 1;
        }
    }
    CHECK(compared > 150);  // windows with at least one fire time
}

TEST_CASE("random expressions agree with a minute scan away from transitions", "[cron][property]") {
    std::mt19937 rng(42);
    for (const char* name : dst_zones) {
        const auto* z = zone(name);
        for (int i = 0; i < 40; ++i) {
            const auto day = std::uniform_int_distribution<int>(0, 41 * 365 - 3)(rng);
            const auto from = start + std::chrono::hours{24 * day};
            const auto to = from + 48h;
            if (!transitions(z, from - 48h, to + 48h).empty()) {
                continue;
            }
            const std::string expr = random_expression(rng, false);
            INFO(name << " " << expr << " from " << sluice::scheduler::testing::local(from, z));
            const auto ref = reference_cron::parse(expr).value();
            CHECK(engine_fires(parsed(expr), z, from, to) == scanned_fires(ref, z, from, to, 60s));
        }
    }
}

TEST_CASE("random six-field expressions agree with a second scan across DST transitions",
          "[cron][property]") {
    std::mt19937 rng(7);
    for (const char* name : dst_zones) {
        const auto* z = zone(name);
        const auto all = transitions(z, start, end);
        for (int i = 0; i < 8; ++i) {
            const auto tr = all[std::uniform_int_distribution<std::size_t>(0, all.size() - 1)(rng)];
            const auto from = tr - 90min;
            const auto to = tr + 90min;
            std::string expr;
            do {
                expr = random_expression(rng, true);
            } while (parsed(expr).is_fixed_time());
            INFO(name << " " << expr << " around " << sluice::scheduler::testing::local(tr, z));
            const auto ref = reference_cron::parse(expr).value();
            CHECK(engine_fires(parsed(expr), z, from, to) == scanned_fires(ref, z, from, to, 1s));
        }
    }
}
