#include "scheduler/catchup.hpp"

#include <algorithm>
#include <deque>

namespace sluice::scheduler {

namespace {

// The first window searched back from `until`; grows eightfold until enough ticks are found.
constexpr std::chrono::seconds first_window{64};

}  // namespace

std::vector<core::sys_seconds> newest_ticks(const next_tick_fn& next, core::sys_seconds after,
                                            core::sys_seconds until, std::size_t limit) {
    if (limit == 0 || until <= after) {
        return {};
    }
    std::chrono::seconds window = first_window;
    std::size_t scanned = 0;
    while (true) {
        // Search (lo, until]; lo never goes below `after`.
        core::sys_seconds lo = until - window <= after ? after : until - window;
        std::deque<core::sys_seconds> found;
        for (std::optional<core::sys_seconds> t = next(lo); t && *t <= until; t = next(*t)) {
            found.push_back(*t);
            if (found.size() > limit) {
                found.pop_front();
            }
            if (++scanned > max_scanned_ticks) {
                break;
            }
        }
        if (found.size() >= limit || lo == after || scanned > max_scanned_ticks) {
            return {found.begin(), found.end()};
        }
        // Grow the window; guard against overflow of very long gaps.
        if (window > std::chrono::hours(24 * 366 * 1000)) {
            window = until - after;
        } else {
            window *= 8;
        }
    }
}

std::optional<core::sys_seconds> previous_tick(const next_tick_fn& next, core::sys_seconds tick,
                                               std::chrono::seconds max_lookback) {
    std::vector<core::sys_seconds> before =
        newest_ticks(next, tick - max_lookback, tick - std::chrono::seconds(1), 1);
    if (before.empty()) {
        return std::nullopt;
    }
    return before.front();
}

tick_plan plan_ticks(const next_tick_fn& next, config::catchup_policy policy, int max_catchup_runs,
                     core::sys_seconds since, core::sys_seconds now, bool resuming) {
    tick_plan plan;
    std::size_t limit = 1;
    if (policy == config::catchup_policy::all) {
        limit = static_cast<std::size_t>(std::max(1, max_catchup_runs));
    } else if (policy == config::catchup_policy::none && resuming) {
        limit = 0;
    }
    plan.fire = newest_ticks(next, since, now, limit);
    plan.next = next(std::max(since, now));
    return plan;
}

}  // namespace sluice::scheduler
