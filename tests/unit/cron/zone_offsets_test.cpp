#include "core/zone_offsets.hpp"

#include <catch2/catch.hpp>
#include <date/date.h>
#include <date/tz.h>

#include "tests/unit/cron/cron_test_support.hpp"

using namespace std::chrono_literals;
using sluice::core::local_resolution;
using sluice::core::offset_at;
using sluice::core::resolve_local;
using sluice::scheduler::testing::at;
using sluice::scheduler::testing::zone;

TEST_CASE("offsets agree with the tz database up to 2037", "[zone]") {
    for (const char* name : {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                             "America/Santiago", "Pacific/Chatham", "Asia/Kolkata"}) {
        INFO(name);
        const auto* z = zone(name);
        for (auto t = at("2000-01-01T00:00:00Z"); t < at("2037-06-01T00:00:00Z"); t += 97h) {
            CHECK(offset_at(z, t).offset == z->get_info(t).offset);
        }
    }
}

TEST_CASE("after the last stored transition the POSIX rule continues DST", "[zone]") {
    const auto* berlin = zone("Europe/Berlin");
    // Last Sunday of March / October 2040: 03-25 and 10-28, at 01:00 UTC.
    CHECK(offset_at(berlin, at("2040-03-25T00:59:59Z")).offset == 1h);
    CHECK(offset_at(berlin, at("2040-03-25T01:00:00Z")).offset == 2h);
    CHECK(offset_at(berlin, at("2040-10-28T00:59:59Z")).offset == 2h);
    CHECK(offset_at(berlin, at("2040-10-28T01:00:00Z")).offset == 1h);
    const auto span = offset_at(berlin, at("2040-07-01T00:00:00Z"));
    CHECK(span.begin == at("2040-03-25T01:00:00Z"));
    CHECK(span.end == at("2040-10-28T01:00:00Z"));
    // Southern hemisphere, half-hour shift, first Sunday of April / October 2039.
    const auto* lh = zone("Australia/Lord_Howe");
    CHECK(offset_at(lh, at("2039-07-01T00:00:00Z")).offset == 10h + 30min);
    CHECK(offset_at(lh, at("2040-01-01T00:00:00Z")).offset == 11h);
    // Chatham: 2:45 and 3:45 local rules.
    const auto* chatham = zone("Pacific/Chatham");
    CHECK(offset_at(chatham, at("2039-09-24T13:59:59Z")).offset == 12h + 45min);
    CHECK(offset_at(chatham, at("2039-09-24T14:00:00Z")).offset == 13h + 45min);
    // Santiago: first Saturday of September at 24:00 local.
    const auto* scl = zone("America/Santiago");
    CHECK(offset_at(scl, at("2039-09-04T03:59:59Z")).offset == -4h);
    CHECK(offset_at(scl, at("2039-09-04T04:00:00Z")).offset == -3h);
    // The boundary from stored data to the rule is seamless.
    CHECK(offset_at(berlin, at("2037-12-01T00:00:00Z")).offset == 1h);
    CHECK(offset_at(berlin, at("2038-03-28T01:00:00Z")).offset == 2h);
    // Zones without DST stay put.
    CHECK(offset_at(zone("Asia/Kolkata"), at("2045-07-01T00:00:00Z")).offset == 5h + 30min);
    CHECK(offset_at(nullptr, at("2045-07-01T00:00:00Z")).offset == 0s);
}

TEST_CASE("local times resolve to unique, nonexistent and ambiguous", "[zone]") {
    const auto* ny = zone("America/New_York");
    const auto hint = offset_at(ny, at("2026-01-01T00:00:00Z"));
    const auto local = [](const char* t) { return at(t).time_since_epoch().count(); };
    auto r = resolve_local(ny, local("2026-03-08T02:30:00Z"), hint);
    CHECK(r.what == local_resolution::kind::nonexistent);
    CHECK(r.second.begin == at("2026-03-08T07:00:00Z"));
    r = resolve_local(ny, local("2026-11-01T01:30:00Z"), hint);
    CHECK(r.what == local_resolution::kind::ambiguous);
    CHECK(r.first.offset == -4h);
    CHECK(r.second.offset == -5h);
    r = resolve_local(ny, local("2026-07-01T12:00:00Z"), hint);
    CHECK(r.what == local_resolution::kind::unique);
    CHECK(r.first.offset == -4h);
    r = resolve_local(ny, local("2026-01-05T12:00:00Z"), hint);
    CHECK(r.what == local_resolution::kind::unique);
    CHECK(r.first.offset == -5h);
    // After 2037 through the rule.
    r = resolve_local(ny, local("2040-03-11T02:30:00Z"), hint);
    CHECK(r.what == local_resolution::kind::nonexistent);
    CHECK(r.second.begin == at("2040-03-11T07:00:00Z"));
}
