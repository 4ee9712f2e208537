#pragma once

#include <vector>

#include "config/spec.hpp"
#include "scheduler/backfill.hpp"

namespace sluice::etl {

// What each copy task of `job` would read in a run of `interval`, for a backfill's dry run
// (scheduler::backfill_bounds_fn): the data interval when its source query filters on
// :data_interval_start / :data_interval_end / :logical_time, the rows after the stored
// high-water mark when it has a cursor (incremental copies do not follow the interval), or the
// whole source. One entry per copy task, in the job's order; a JSON object each.
std::vector<scheduler::task_read_bounds> copy_read_bounds(const config::job_spec& job,
                                                          const scheduler::backfill_interval& at);

}  // namespace sluice::etl
