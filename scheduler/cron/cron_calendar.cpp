#include "scheduler/cron/cron_calendar.hpp"

#include <bit>

namespace sluice::scheduler {

std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
    const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t mp = (static_cast<std::int64_t>(month) + 9) % 12;
    const std::int64_t doy = (153 * mp + 2) / 5 + static_cast<std::int64_t>(day) - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(std::int64_t z, int& year, unsigned& month, unsigned& day) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
}

unsigned days_in_month(int year, unsigned month) {
    static constexpr unsigned lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2) {
        const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        return leap ? 29 : 28;
    }
    return lengths[month - 1];
}

unsigned weekday_from_days(std::int64_t days) {
    // 1970-01-01 was a Thursday (4).
    return static_cast<unsigned>(((days + 4) % 7 + 7) % 7);
}

std::uint64_t matching_days(const cron_fields& f, int year, unsigned month) {
    const unsigned n = days_in_month(year, month);
    const std::uint64_t valid = ((std::uint64_t{1} << (n + 1)) - 1) & ~std::uint64_t{1};
    if (f.dom_star && f.dow_star) {
        return valid;
    }
    const std::int64_t first_day = days_from_civil(year, month, 1);
    const unsigned wd1 = weekday_from_days(first_day);
    const auto weekday_of = [&](unsigned d) { return (wd1 + d - 1) % 7; };

    std::uint64_t dom = 0;
    if (!f.dom_star) {
        dom = f.days & valid;
        if (f.last_day_offset >= 0 && static_cast<unsigned>(f.last_day_offset) < n) {
            dom |= std::uint64_t{1} << (n - static_cast<unsigned>(f.last_day_offset));
        }
        if (f.last_weekday) {
            const unsigned wd = weekday_of(n);
            const unsigned d = wd == 0 ? n - 2 : wd == 6 ? n - 1 : n;
            dom |= std::uint64_t{1} << d;
        }
        // Nearest weekday to day d, never leaving the month; a day the month lacks never fires.
        for (std::uint64_t w = f.nearest_weekdays & valid; w != 0; w &= w - 1) {
            const unsigned d = static_cast<unsigned>(std::countr_zero(w));
            const unsigned wd = weekday_of(d);
            unsigned target = d;
            if (wd == 6) {
                target = d == 1 ? 3 : d - 1;
            } else if (wd == 0) {
                target = d == n ? d - 2 : d + 1;
            }
            dom |= std::uint64_t{1} << target;
        }
    }

    std::uint64_t dow = 0;
    if (!f.dow_star) {
        // Days 1, 8, 15, 22, 29 (and 36, cut by `valid`).
        constexpr std::uint64_t every_seventh =
            (std::uint64_t{1} << 1) | (std::uint64_t{1} << 8) | (std::uint64_t{1} << 15) |
            (std::uint64_t{1} << 22) | (std::uint64_t{1} << 29) | (std::uint64_t{1} << 36);
        for (unsigned wd = 0; wd < 7; ++wd) {
            const bool plain = (f.weekdays >> wd) & 1u;
            const std::uint8_t nth = f.nth_weekday[wd];
            if (!plain && nth == 0) {
                continue;
            }
            const unsigned first = 1 + (wd + 7 - wd1) % 7;  // first such weekday of the month
            if (plain) {
                dow |= (every_seventh << (first - 1)) & valid;
                continue;
            }
            for (unsigned k = 0; k < 5; ++k) {
                if ((nth >> k) & 1u) {
                    const unsigned d = first + 7 * k;
                    if (d <= n) {
                        dow |= std::uint64_t{1} << d;
                    }
                }
            }
            if (nth & cron_fields::nth_last) {
                dow |= std::uint64_t{1} << (first + 7 * ((n - first) / 7));
            }
        }
    }
    if (f.dom_star) {
        return dow;
    }
    if (f.dow_star) {
        return dom;
    }
    return f.dom_and_dow ? (dom & dow) : (dom | dow);
}

}  // namespace sluice::scheduler
