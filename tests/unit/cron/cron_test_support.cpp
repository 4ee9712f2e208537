#include "tests/unit/cron/cron_test_support.hpp"

#include <cstdio>

#include <catch2/catch.hpp>
#include <date/date.h>
#include <date/tz.h>

#include "core/time.hpp"
#include "core/zone_offsets.hpp"

namespace sluice::scheduler::testing {

using core::offset_at;

const date::time_zone* zone(std::string_view name) {
    if (name == "UTC") {
        return nullptr;
    }
    const auto z = core::find_time_zone(name);
    REQUIRE(z.has_value());
    return *z;
}

std::chrono::sys_seconds at(std::string_view rfc3339) {
    const auto t = core::parse_rfc3339(rfc3339);
    INFO(rfc3339);
    REQUIRE(t.has_value());
    return *t;
}

std::string local(std::chrono::sys_seconds t, const date::time_zone* z) {
    const auto offset = offset_at(z, t).offset;
    const auto text = date::format("%Y-%m-%dT%H:%M:%S", t + offset);
    const long long total = offset.count() < 0 ? -offset.count() : offset.count();
    char buf[48];
    std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", offset.count() < 0 ? '-' : '+', total / 3600,
                  total / 60 % 60);
    return text + buf;
}

std::vector<std::string> fires(std::string_view expr, std::string_view zone_name,
                               std::string_view from, int n) {
    const cron_expression e = parsed(expr);
    const date::time_zone* z = zone(zone_name);
    std::vector<std::string> out;
    auto t = at(from);
    for (int i = 0; i < n; ++i) {
        const auto next = e.next(t, z);
        if (!next) {
            break;
        }
        REQUIRE(*next > t);
        out.push_back(local(*next, z));
        t = *next;
    }
    return out;
}

cron_expression parsed(std::string_view expr) {
    auto e = cron_expression::parse(expr);
    INFO(std::string(expr) << ": " << (e ? "" : e.error().message));
    REQUIRE(e.has_value());
    return *e;
}

cron_parse_error parse_error(std::string_view expr) {
    const auto e = cron_expression::parse(expr);
    INFO(expr);
    REQUIRE_FALSE(e.has_value());
    return e.error();
}

}  // namespace sluice::scheduler::testing
