// The next-fire search: field by field over local wall-clock time (year -> month -> day -> hour
// -> minute -> second with carry), then mapped onto instants with the DST rules of docs/cron.md.

#include <bit>
#include <optional>

#include "core/zone_offsets.hpp"
#include "scheduler/cron/cron_calendar.hpp"
#include "scheduler/cron/cron_expression.hpp"

namespace sluice::scheduler {
namespace {

using core::local_resolution;
using core::offset_at;
using core::offset_span;
using core::resolve_local;
using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr std::int64_t day = 86400;

// A schedule that has not fired in this many years never will: the Gregorian calendar repeats
// every 400 years.
constexpr int search_years = 401;

// First set bit at or above `from`, or -1.
int next_bit(std::uint64_t mask, unsigned from) {
    if (from >= 64) {
        return -1;
    }
    const std::uint64_t rest = mask >> from;
    return rest == 0 ? -1 : static_cast<int>(from) + std::countr_zero(rest);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int next_allowed_year(const cron_fields& f, int year) {
    if (f.any_year) {
        return year;
    }
    for (int y = std::max(year, cron_min_year); y <= cron_max_year; ++y) {
        if (f.year_allowed(y)) {
            return y;
        }
    }
    return cron_max_year + 1;
}

// The first local time >= `from` (seconds since the local epoch) that the fields match.
std::optional<std::int64_t> next_match(const cron_fields& f, std::int64_t from) {
    const std::int64_t from_day = floor_div(from, day);
    const std::int64_t tod = from - from_day * day;
    int y = 0;
    unsigned mo = 0, d = 0;
    civil_from_days(from_day, y, mo, d);
    unsigned h = static_cast<unsigned>(tod / 3600);
    unsigned mi = static_cast<unsigned>(tod / 60 % 60);
    unsigned s = static_cast<unsigned>(tod % 60);
    const int last_year = f.any_year ? y + search_years : cron_max_year;

    int mask_year = 0;
    unsigned mask_month = 0;
    std::uint64_t day_mask = 0;

    const auto reset_day = [&] { h = mi = s = 0; };
    const auto reset_month = [&] { d = 1, reset_day(); };
    const auto next_year = [&] { ++y, mo = 1, reset_month(); };

    while (true) {
        if (!f.any_year) {
            const int allowed = next_allowed_year(f, y);
            if (allowed != y) {
                y = allowed, mo = 1, reset_month();
            }
        }
        if (y > last_year) {
            return std::nullopt;
        }
        const int m = next_bit(f.months, mo);
        if (m < 0) {
            next_year();
            continue;
        }
        if (static_cast<unsigned>(m) != mo) {
            mo = static_cast<unsigned>(m), reset_month();
        }
        if (mask_year != y || mask_month != mo) {
            day_mask = matching_days(f, y, mo);
            mask_year = y, mask_month = mo;
        }
        const int dd = next_bit(day_mask, d);
        if (dd < 0) {
            if (++mo > 12) {
                next_year();
            } else {
                reset_month();
            }
            continue;
        }
        if (static_cast<unsigned>(dd) != d) {
            d = static_cast<unsigned>(dd), reset_day();
        }
        const int hh = next_bit(f.hours, h);
        if (hh < 0) {
            ++d, reset_day();
            continue;
        }
        if (static_cast<unsigned>(hh) != h) {
            h = static_cast<unsigned>(hh), mi = s = 0;
        }
        const int mm = next_bit(f.minutes, mi);
        if (mm < 0) {
            ++h, mi = s = 0;
            continue;
        }
        if (static_cast<unsigned>(mm) != mi) {
            mi = static_cast<unsigned>(mm), s = 0;
        }
        const int ss = next_bit(f.seconds, s);
        if (ss < 0) {
            ++mi, s = 0;
            continue;
        }
        return days_from_civil(y, mo, d) * day + h * 3600 + mi * 60 + ss;
    }
}

// Walks matching local times from `local_from` and returns the earliest instant strictly after
// `after` that one of them fires at, applying the DST rules.
std::optional<std::int64_t> scan(const cron_fields& f, const date::time_zone* zone,
                                 std::int64_t local_from, std::int64_t after,
                                 const offset_span& hint) {
    // Bounds the whole walk, not only each next_match call: a schedule whose every match falls
    // into a DST gap (e.g. "* 2 ? 3 SUN#2" in America/New_York) would otherwise walk forever.
    const std::int64_t horizon = local_from + std::int64_t{search_years} * 366 * day;
    std::int64_t local = local_from;
    while (true) {
        const std::optional<std::int64_t> m = next_match(f, local);
        if (!m || *m > horizon) {
            return std::nullopt;
        }
        const local_resolution r = resolve_local(zone, *m, hint);
        switch (r.what) {
            case local_resolution::kind::unique: {
                const std::int64_t inst = *m - r.first.offset.count();
                if (inst > after) {
                    return inst;
                }
                break;
            }
            case local_resolution::kind::ambiguous: {
                // Fixed-time: the first occurrence only. Interval: both occurrences.
                const std::int64_t earlier = *m - r.first.offset.count();
                const std::int64_t later = *m - r.second.offset.count();
                if (earlier > after) {
                    return earlier;
                }
                if (!f.fixed_time && later > after) {
                    return later;
                }
                break;
            }
            case local_resolution::kind::nonexistent: {
                // Fixed-time: at the instant the gap ends, if that is still the same local day.
                // Interval: skipped.
                const std::int64_t gap_end = r.second.begin.time_since_epoch().count();
                const std::int64_t gap_end_local = gap_end + r.second.offset.count();
                if (f.fixed_time) {
                    if (floor_div(gap_end_local, day) == floor_div(*m, day) && gap_end > after) {
                        return gap_end;
                    }
                }
                // Every local time before the gap's end is missing too: jump over the gap in one
                // step rather than second by second.
                if (gap_end_local > *m + 1) {
                    local = gap_end_local;
                    continue;
                }
                break;
            }
        }
        local = *m + 1;
    }
}

// Fire times stay within the years RFC 3339 can print (0000-9999) in every zone (offsets are
// under a day); later ones are "never".
std::optional<sys_seconds> checked(std::int64_t instant) {
    constexpr std::int64_t last_printable = 253402214400 - 1;  // before 9999-12-31T00:00:00Z
    if (instant > last_printable) {
        return std::nullopt;
    }
    return sys_seconds{seconds{instant}};
}

}  // namespace

std::optional<sys_seconds> cron_expression::next(sys_seconds after,
                                                 const date::time_zone* zone) const {
    const std::int64_t a = after.time_since_epoch().count();
    if (fields_.every.count() > 0) {
        // Epoch-anchored: the instants t with t % interval == 0, whatever the zone.
        const std::int64_t every = fields_.every.count();
        return checked((floor_div(a, every) + 1) * every);
    }
    if (zone == nullptr) {
        const auto m = next_match(fields_, a + 1);
        if (!m) {
            return std::nullopt;
        }
        return checked(*m);
    }
    const offset_span span = offset_at(zone, after);
    std::optional<std::int64_t> best = scan(fields_, zone, a + span.offset.count() + 1, a, span);

    // In the first pass through a repeated hour an interval schedule also fires in the second
    // pass, whose local times the walk above has already gone past.
    if (!fields_.fixed_time && span.end.time_since_epoch().count() < (std::int64_t{1} << 50)) {
        const offset_span after_span = offset_at(zone, span.end);
        const std::int64_t turn = span.end.time_since_epoch().count();
        const std::int64_t back = span.offset.count() - after_span.offset.count();
        if (back > 0 && a >= turn - back) {
            const auto second_pass =
                scan(fields_, zone, turn + after_span.offset.count(), turn - 1, after_span);
            if (second_pass && (!best || *second_pass < *best)) {
                best = second_pass;
            }
        }
    }
    if (!best) {
        return std::nullopt;
    }
    return checked(*best);
}

}  // namespace sluice::scheduler
