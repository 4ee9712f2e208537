#pragma once

// Which schedule ticks fire (docs/configuration.md#jobs, `catchup`). Pure: the schedule comes in as
// a next-tick function, the time as arguments.
//
// The rule: a job only fires ticks strictly after its `since` point, which is the later of the
// newest tick recorded in the store and the moment the job's schedule (expression and timezone)
// was first seen in its current form. So changing a schedule never back-fires ticks from before
// the change, and a restart or an unpause only fires what `catchup` allows:
//   resuming (startup, unpause): none -> nothing; latest -> the newest due tick;
//                                all -> the newest max_catchup_runs due ticks, oldest first.
//   running (the timer woke up): the newest due tick (several are due only when the loop stalled
//                                or the wall clock jumped), or the newest max_catchup_runs of
//                                them under `all`.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "config/spec.hpp"
#include "core/time.hpp"

namespace sluice::scheduler {

// The first tick strictly after `after`, or nullopt when the schedule never fires again.
using next_tick_fn = std::function<std::optional<core::sys_seconds>(core::sys_seconds after)>;

// A bound on the ticks one search enumerates, so that a per-second schedule after years of
// downtime cannot stall the control loop.
inline constexpr std::size_t max_scanned_ticks = 1'000'000;

// The newest `limit` ticks t with after < t <= until, oldest first. Searches backwards from
// `until` in growing windows: cost is about the ticks returned, not the length of the gap.
std::vector<core::sys_seconds> newest_ticks(const next_tick_fn& next, core::sys_seconds after,
                                            core::sys_seconds until, std::size_t limit);

// The tick before `tick` (the start of its data interval), searched back at most
// `max_lookback`; nullopt when there is none in that window.
std::optional<core::sys_seconds> previous_tick(
    const next_tick_fn& next, core::sys_seconds tick,
    std::chrono::seconds max_lookback = std::chrono::hours(24 * 366 * 2));

struct tick_plan {
    std::vector<core::sys_seconds> fire;    // oldest first
    std::optional<core::sys_seconds> next;  // the first tick after `now`
};

// The ticks to fire at `now` for a job whose ticks up to `since` are accounted for.
tick_plan plan_ticks(const next_tick_fn& next, config::catchup_policy policy, int max_catchup_runs,
                     core::sys_seconds since, core::sys_seconds now, bool resuming);

}  // namespace sluice::scheduler
