#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace sluice::scheduler {

// The years a 7-field expression may name. Kept small so the year set is a 256-bit bitset.
inline constexpr int cron_min_year = 1970;
inline constexpr int cron_max_year = 2199;

// The compiled form of an expression: one bitset per field, precomputed by the parser so that
// the next-fire search is a handful of bit scans per field.
struct cron_fields {
    std::uint64_t seconds = 0;  // bit s, 0-59
    std::uint64_t minutes = 0;  // bit m, 0-59
    std::uint64_t hours = 0;    // bit h, 0-23
    std::uint64_t days = 0;     // bit d, 1-31 (plain day-of-month values)
    std::uint64_t months = 0;   // bit m, 1-12

    std::uint64_t nearest_weekdays = 0;  // bit d for "dW"
    int last_day_offset = -1;            // "L" = 0, "L-n" = n; -1 when absent
    bool last_weekday = false;           // "LW"

    std::uint8_t weekdays = 0;                  // bit w (0 = Sunday) for plain weekdays
    std::array<std::uint8_t, 7> nth_weekday{};  // per weekday: bit k-1 for "#k", bit 5 for "L"

    bool any_year = true;                  // year field absent, * or ?
    std::array<std::uint64_t, 4> years{};  // bit (y - cron_min_year)

    bool dom_star = true;      // day-of-month written as * or ?
    bool dow_star = true;      // day-of-week written as * or ?
    bool dom_and_dow = false;  // '+' before day-of-week: both must match

    bool fixed_time = false;  // single value in second, minute and hour (DST rule)

    std::chrono::seconds every{0};  // "@every": fixed interval anchored at the Unix epoch

    static constexpr std::uint8_t nth_last = 1u << 5;

    bool year_allowed(int y) const {
        if (any_year) {
            return true;
        }
        if (y < cron_min_year || y > cron_max_year) {
            return false;
        }
        const unsigned i = static_cast<unsigned>(y - cron_min_year);
        return (years[i / 64] >> (i % 64)) & 1u;
    }
};

}  // namespace sluice::scheduler
