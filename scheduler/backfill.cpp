#include "scheduler/backfill.hpp"

#include <algorithm>

namespace sluice::scheduler {

core::result<std::vector<backfill_interval>> plan_backfill_intervals(const next_tick_fn& next,
                                                                     core::sys_seconds from,
                                                                     core::sys_seconds to,
                                                                     backfill_order order) {
    const std::string range =
        "[" + core::format_rfc3339_utc(from) + ", " + core::format_rfc3339_utc(to) + ")";
    if (from >= to) {
        return core::error::permanent("the backfill range " + range +
                                      " is empty: `from` must be before `to`");
    }
    // T0: the first tick at or after `from` starts the first interval.
    std::optional<core::sys_seconds> start = next(from - std::chrono::seconds(1));
    std::vector<backfill_interval> out;
    while (start && *start < to) {
        std::optional<core::sys_seconds> end = next(*start);
        if (!end || *end > to) {
            break;
        }
        if (out.size() == max_backfill_runs) {
            return core::error::permanent("the backfill range " + range + " holds more than " +
                                          std::to_string(max_backfill_runs) +
                                          " schedule intervals; split it into several backfills");
        }
        out.push_back(backfill_interval{*end, *start, *end});
        start = end;
    }
    if (out.empty()) {
        return core::error::permanent("the backfill range " + range +
                                      " holds no complete schedule interval of the job");
    }
    if (order == backfill_order::newest_first) {
        std::reverse(out.begin(), out.end());
    }
    return out;
}

interval_status fold_interval_status(interval_status current, run_state state) {
    interval_status seen = interval_status::canceled;
    switch (state) {
        case run_state::queued:
        case run_state::running:
            seen = interval_status::in_flight;
            break;
        case run_state::success:
            seen = interval_status::succeeded;
            break;
        case run_state::failed:
        case run_state::timed_out:
            seen = interval_status::failed;
            break;
        case run_state::canceled:
            seen = interval_status::canceled;
            break;
    }
    // The enum lists statuses from weakest (no_run) to strongest, except that in_flight beats
    // everything.
    auto rank = [](interval_status s) {
        switch (s) {
            case interval_status::no_run:
                return 0;
            case interval_status::canceled:
                return 1;
            case interval_status::failed:
                return 2;
            case interval_status::succeeded:
                return 3;
            case interval_status::in_flight:
                return 4;
        }
        return 0;
    };
    return rank(seen) > rank(current) ? seen : current;
}

bool should_run_interval(reprocess_mode mode, interval_status status) {
    switch (status) {
        case interval_status::in_flight:
            return false;
        case interval_status::no_run:
        case interval_status::canceled:
            return true;
        case interval_status::failed:
            return mode != reprocess_mode::none;
        case interval_status::succeeded:
            return mode == reprocess_mode::all;
    }
    return false;
}

std::string_view to_string(interval_status s) {
    switch (s) {
        case interval_status::no_run:
            return "no_run";
        case interval_status::in_flight:
            return "in_flight";
        case interval_status::succeeded:
            return "succeeded";
        case interval_status::failed:
            return "failed";
        case interval_status::canceled:
            return "canceled";
    }
    return "no_run";
}

}  // namespace sluice::scheduler
