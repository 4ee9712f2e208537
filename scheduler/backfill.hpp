#pragma once

// Backfills (docs/operations.md#backfills): one run per schedule interval of a time range, created
// lazily under the backfill's own max_active_runs, below scheduled and manual runs in priority. The
// vocabulary and the pure planning decisions live here; the engine drives them
// (engine_backfills.cpp) and the store persists them (run_store's backfill calls and records).
//
// The intervals of a backfill over [from, to) are the job's schedule intervals that lie inside
// it: with T0 the first tick at or after `from` and T1 < T2 < ... the ticks after it up to `to`,
// the runs are T1..Tn, each with logical time Ti and data interval [T(i-1), Ti), exactly what
// the scheduled run of tick Ti gets (engine_schedule.cpp: a run's logical time is its tick, the
// end of its data interval).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "scheduler/catchup.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::scheduler {

// The most intervals one backfill covers: a bigger range is refused (split it into several),
// so planning one never enumerates more than this many ticks or holds more in memory.
inline constexpr std::size_t max_backfill_runs = 10'000;
// The most runs of one backfill active at once, whatever the request asks.
inline constexpr int max_backfill_active_runs = 64;

struct backfill_interval {
    core::sys_seconds logical_time;  // the tick; the end of the data interval
    core::sys_seconds data_interval_start;
    core::sys_seconds data_interval_end;
};

// The intervals of [from, to) in the given order (see the top of this file). Errors (permanent,
// for the operator): from >= to, no complete interval in the range, more than
// max_backfill_runs intervals.
core::result<std::vector<backfill_interval>> plan_backfill_intervals(const next_tick_fn& next,
                                                                     core::sys_seconds from,
                                                                     core::sys_seconds to,
                                                                     backfill_order order);

// What the existing runs of an interval (same job and logical time) say about reprocessing it.
enum class interval_status { no_run, in_flight, succeeded, failed, canceled };
// Folds the states of the runs that share an interval's logical time: in_flight beats
// succeeded beats failed (failed or timed_out) beats canceled.
interval_status fold_interval_status(interval_status current, run_state state);
// True when `mode` creates a run for an interval in `status`.
bool should_run_interval(reprocess_mode mode, interval_status status);
std::string_view to_string(interval_status s);

// HOOK for task kinds that read by data interval (the copy task kind): what each task of a run
// over `interval` would read, shown by a dry run. daemon/ binds it (engine_dependencies::
// backfill_bounds) once a task kind can describe its bounds; unset, a dry run lists the data
// intervals only.
struct task_read_bounds {
    std::string task;
    std::string bounds_json;  // a JSON object, e.g. {"from":"...","to":"..."}
};
using backfill_bounds_fn = std::function<std::vector<task_read_bounds>(
    const config::job_spec& job, const backfill_interval& interval)>;

}  // namespace sluice::scheduler
