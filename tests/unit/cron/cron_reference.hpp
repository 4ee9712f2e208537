#pragma once

// A deliberately naive second, independent reading of the cron language for the property tests:
// sets of values per field and a per-day check written from the definitions in docs/cron.md,
// with the calendar from Howard Hinnant's date instead of the engine's own bit tricks.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace sluice::scheduler::testing {

struct local_time {
    int year;
    unsigned month, day, hour, minute, second;
};

class reference_cron {
public:
    // nullopt for anything the reference does not understand (tests only feed valid input).
    static std::optional<reference_cron> parse(std::string_view text);

    bool matches(const local_time& t) const;
    bool matches_day(int year, unsigned month, unsigned day) const;
    bool fixed_time() const { return fixed_; }

private:
    std::set<int> second_, minute_, hour_, dom_, month_, year_, dow_plain_;
    std::set<int> nearest_;                  // nW
    std::set<std::pair<int, int>> dow_nth_;  // (weekday, k), k = 6 for last
    int last_offset_ = -1;
    bool last_weekday_ = false, dom_star_ = false, dow_star_ = false, and_ = false;
    bool any_year_ = true, fixed_ = false;
};

local_time to_local(std::chrono::sys_seconds t, std::chrono::seconds offset);

}  // namespace sluice::scheduler::testing
