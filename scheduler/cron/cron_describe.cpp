// Plain-English rendering of a schedule for `sluice cron explain` and the admin page.

#include <bit>
#include <cstdio>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "scheduler/cron/cron_expression.hpp"

namespace sluice::scheduler {
namespace {

constexpr const char* month_names[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
constexpr const char* weekday_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

std::string two_digits(int v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d", v);
    return buf;
}

std::string ordinal(int n) {
    const int mod100 = n % 100;
    const char* suffix = "th";
    if (mod100 < 11 || mod100 > 13) {
        suffix = n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
    }
    return std::to_string(n) + suffix;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) {
            out += i + 1 == parts.size() ? " and " : ", ";
        }
        out += parts[i];
    }
    return out;
}

// Runs of consecutive values: [first, last] pairs.
std::vector<std::pair<int, int>> runs(std::uint64_t bits, int min, int max) {
    std::vector<std::pair<int, int>> out;
    for (int v = min; v <= max; ++v) {
        if ((bits >> v) & 1u) {
            if (!out.empty() && out.back().second == v - 1) {
                out.back().second = v;
            } else {
                out.emplace_back(v, v);
            }
        }
    }
    return out;
}

// The values as "1, 5 and 10 through 20", each rendered by `name`.
template <class Name>
std::string list_of(std::uint64_t bits, int min, int max, Name name) {
    std::vector<std::string> parts;
    for (const auto& [a, b] : runs(bits, min, max)) {
        const std::string first(name(a));
        const std::string last(name(b));
        if (a == b) {
            parts.push_back(first);
        } else if (b == a + 1) {
            parts.push_back(first);
            parts.push_back(last);
        } else {
            parts.push_back(first + " through " + last);
        }
    }
    return join(parts);
}

// The step n when the set is exactly {min, min+n, ...} up to the field's maximum (n > 1).
int uniform_step(std::uint64_t bits, int min, int max) {
    if (std::popcount(bits) < 2 || !((bits >> min) & 1u)) {
        return 0;
    }
    const int first = min;
    int second = first + 1;
    while (!((bits >> second) & 1u)) {
        ++second;
    }
    const int step = second - first;
    for (int v = min; v <= max; ++v) {
        const bool expected = (v - first) % step == 0;
        if (((bits >> v) & 1u) != expected) {
            return 0;
        }
    }
    return step;
}

std::uint64_t all_bits(int min, int max) {
    std::uint64_t out = 0;
    for (int v = min; v <= max; ++v) {
        out |= std::uint64_t{1} << v;
    }
    return out;
}

std::string number(int v) {
    return std::to_string(v);
}

// "every 15 minutes", "every minute", "at minute 5", "at minutes 0 and 30".
std::string unit_phrase(std::uint64_t bits, int min, int max, const char* unit) {
    if (bits == all_bits(min, max)) {
        return std::string("every ") + unit;
    }
    if (const int step = uniform_step(bits, min, max); step > 1) {
        return "every " + std::to_string(step) + " " + unit + "s";
    }
    const bool plural = std::popcount(bits) > 1;
    return std::string("at ") + unit + (plural ? "s " : " ") + list_of(bits, min, max, number);
}

std::string time_phrase(const cron_fields& f) {
    const bool sec_zero = f.seconds == 1;
    if (std::popcount(f.hours) == 1 && std::popcount(f.minutes) == 1 &&
        std::popcount(f.seconds) == 1) {
        const int h = std::countr_zero(f.hours);
        const int m = std::countr_zero(f.minutes);
        const int s = std::countr_zero(f.seconds);
        return "at " + two_digits(h) + ":" + two_digits(m) + (s == 0 ? "" : ":" + two_digits(s));
    }
    std::vector<std::string> parts;
    const bool all_hours = f.hours == all_bits(0, 23);
    const bool all_minutes = f.minutes == all_bits(0, 59);
    if (!sec_zero) {
        parts.push_back(unit_phrase(f.seconds, 0, 59, "second"));
    }
    if (!(all_minutes && !sec_zero)) {
        if (sec_zero && std::popcount(f.minutes) == 1 && !all_hours && std::popcount(f.hours) > 1) {
            parts.push_back("at minute " + std::to_string(std::countr_zero(f.minutes)));
        } else {
            parts.push_back(unit_phrase(f.minutes, 0, 59, "minute"));
        }
    }
    if (!all_hours) {
        if (const int step = uniform_step(f.hours, 0, 23); step > 1) {
            parts.push_back("every " + std::to_string(step) + " hours");
        } else {
            const auto hour = [](int h) { return two_digits(h) + ":00"; };
            if (std::popcount(f.hours) == 1) {
                parts.push_back("during the hour " + hour(std::countr_zero(f.hours)));
            } else {
                parts.push_back("during the hours " + list_of(f.hours, 0, 23, hour));
            }
        }
    }
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i == 0 ? "" : ", ") + parts[i];
    }
    return out;
}

std::string day_of_month_phrase(const cron_fields& f) {
    std::vector<std::string> parts;
    if (f.days != 0) {
        const bool plural = std::popcount(f.days) > 1;
        parts.push_back(std::string(plural ? "days " : "day ") + list_of(f.days, 1, 31, number));
    }
    if (f.last_day_offset == 0) {
        parts.push_back("the last day");
    } else if (f.last_day_offset > 0) {
        parts.push_back(std::to_string(f.last_day_offset) +
                        (f.last_day_offset == 1 ? " day" : " days") + " before the last day");
    }
    if (f.last_weekday) {
        parts.push_back("the last weekday");
    }
    for (int d = 1; d <= 31; ++d) {
        if ((f.nearest_weekdays >> d) & 1u) {
            parts.push_back("the weekday nearest the " + ordinal(d));
        }
    }
    return join(parts);
}

bool has_nth(const cron_fields& f) {
    for (const auto n : f.nth_weekday) {
        if (n != 0) {
            return true;
        }
    }
    return false;
}

std::string day_of_week_phrase(const cron_fields& f) {
    std::vector<std::string> parts;
    if (f.weekdays != 0) {
        parts.push_back(list_of(f.weekdays, 0, 6, [](int w) { return weekday_names[w]; }));
    }
    static constexpr const char* nth_words[] = {"first", "second", "third", "fourth", "fifth"};
    for (int w = 0; w < 7; ++w) {
        const std::uint8_t nth = f.nth_weekday[static_cast<std::size_t>(w)];
        for (int k = 0; k < 5; ++k) {
            if ((nth >> k) & 1u) {
                parts.push_back(std::string("the ") + nth_words[k] + " " + weekday_names[w]);
            }
        }
        if (nth & cron_fields::nth_last) {
            parts.push_back(std::string("the last ") + weekday_names[w]);
        }
    }
    return join(parts);
}

std::string months_phrase(const cron_fields& f) {
    if (f.months == all_bits(1, 12)) {
        return "";
    }
    return "in " + list_of(f.months, 1, 12, [](int m) { return month_names[m - 1]; });
}

std::string years_phrase(const cron_fields& f) {
    if (f.any_year) {
        return "";
    }
    std::vector<std::string> parts;
    int run_start = -1;
    for (int y = cron_min_year; y <= cron_max_year + 1; ++y) {
        const bool on = y <= cron_max_year && f.year_allowed(y);
        if (on && run_start < 0) {
            run_start = y;
        } else if (!on && run_start >= 0) {
            parts.push_back(run_start == y - 1
                                ? std::to_string(run_start)
                                : std::to_string(run_start) + " through " + std::to_string(y - 1));
            run_start = -1;
        }
    }
    return "in " + join(parts);
}

}  // namespace

std::string cron_expression::describe() const {
    const cron_fields& f = fields_;
    if (f.every.count() > 0) {
        return "every " +
               core::format_duration(std::chrono::duration_cast<core::duration>(f.every)) +
               " (at multiples of the interval since 1970-01-01T00:00:00Z, in any time zone)";
    }
    std::string out = time_phrase(f);
    const std::string months = months_phrase(f);
    const bool all_months = months.empty();
    const std::string dom = f.dom_star ? "" : day_of_month_phrase(f);
    const std::string dow = f.dow_star ? "" : day_of_week_phrase(f);
    const bool dow_is_monthly = !f.dow_star && has_nth(f);
    const std::string of_month = all_months ? " of every month" : " of the month";

    if (dom.empty() && dow.empty()) {
        const bool once_a_day = std::popcount(f.hours) == 1 && std::popcount(f.minutes) == 1 &&
                                std::popcount(f.seconds) == 1;
        out += all_months && once_a_day ? " every day" : "";
    } else if (dow.empty()) {
        out += " on " + dom + of_month;
    } else if (dom.empty()) {
        out += " on " + dow + (dow_is_monthly ? of_month : "");
    } else if (f.dom_and_dow) {
        out += " on " + dom + of_month + " if it is also " +
               (dow_is_monthly ? dow + " of the month" : "a " + dow);
    } else {
        out += " on " + dom + of_month + " and on " + dow + (dow_is_monthly ? of_month : "");
    }
    if (!all_months) {
        out += " " + months;
    }
    if (const std::string years = years_phrase(f); !years.empty()) {
        out += " " + years;
    }
    return out;
}

}  // namespace sluice::scheduler
