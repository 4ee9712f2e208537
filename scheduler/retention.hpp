#pragma once

// What the store keeps and for how long (docs/operations.md, "Retention"): the pruner and
// `sluice prune` remove history older than the configured ages in small batches, so that a store
// stops growing without ever holding a lock long enough for the engine to notice.

#include <cstdint>
#include <optional>

#include "core/clock.hpp"

namespace sluice::scheduler {

// The oldest history to keep, per kind; nullopt keeps that kind forever.
// - runs: a finished run that ended before it goes, with its task instances, attempts, log
//   lines and events (and a finished backfill none of whose runs is left);
// - logs: log lines, logged before it, of finished runs;
// - events: events created before it, except those of a queued or running run.
// Queued and running runs, checkpoints, variables, jobs and instances are never touched.
struct retention_cutoffs {
    std::optional<core::time_point> runs;
    std::optional<core::time_point> logs;
    std::optional<core::time_point> events;

    bool keeps_everything() const { return !runs && !logs && !events; }
};

// Rows removed (or, for a dry run, that would be).
struct prune_counts {
    std::int64_t runs = 0;
    std::int64_t task_instances = 0;
    std::int64_t log_lines = 0;
    std::int64_t events = 0;
    std::int64_t backfills = 0;

    bool empty() const {
        return runs == 0 && task_instances == 0 && log_lines == 0 && events == 0 && backfills == 0;
    }
    prune_counts& operator+=(const prune_counts& o) {
        runs += o.runs;
        task_instances += o.task_instances;
        log_lines += o.log_lines;
        events += o.events;
        backfills += o.backfills;
        return *this;
    }
};

}  // namespace sluice::scheduler
