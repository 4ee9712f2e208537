#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/column_type.hpp"
#include "connectors/source.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"

// The copy task's position in its source: a tuple of cursor values (canonical text, one per
// cursor column), the high-water mark stored as a JSON checkpoint, and the batch ledger entry
// (intent) of sinks that cannot commit rows and mark together (docs/etl.md, "Exactly once").
namespace sluice::etl {

using cursor_values = std::vector<std::string>;

// The rows of one batch: cursor tuple > `lo` (or >= when lo.inclusive; none = from the start)
// and <= `hi`. Deterministic: a replay reads exactly these bounds again.
struct batch_bounds {
    std::optional<connectors::cursor_bound> lo;
    cursor_values hi;
    std::uint64_t rows = 0;  // how many rows the batch had when it was first read
};

// The checkpoint of one copy task, stored as JSON in the sink (sluice_checkpoints) and mirrored
// to the run-state store: {"cursor": [...], "mark": [...] | null, "intent": {...} | null},
// plus "deletes_after": [...] while a delete pass is in progress.
struct copy_checkpoint {
    std::vector<std::string> cursor;     // the cursor columns the mark belongs to
    std::optional<cursor_values> mark;   // everything up to here is loaded
    std::optional<batch_bounds> intent;  // a batch whose insert may or may not have landed
    // deletes: detect: a pass in progress has compared every sink key up to here (JSON
    // "deletes_after", absent when no pass is in progress).
    std::optional<cursor_values> deletes_after;
};

std::string to_json(const copy_checkpoint& checkpoint);
// A permanent error naming the problem when `json` is not a copy checkpoint.
core::result<copy_checkpoint> checkpoint_from_json(std::string_view json);

// The JSON array of a cursor tuple (for the progress report's `mark`).
std::string values_json(const cursor_values& values);

// Compares two cursor tuples column by column under the columns' portable types: integers and
// decimals by value, the rest as text (dates and timestamps in canonical text sort as they
// compare). Negative, zero or positive.
int compare_cursor(const std::vector<connectors::column_type>& types, const cursor_values& a,
                   const cursor_values& b);

// `value` (a date or timestamp of type `type`) moved back by `window`, in the same canonical
// text; a permanent error for other types or text that is not a date or timestamp.
core::result<std::string> step_back(connectors::column_type type, std::string_view value,
                                    core::duration window);

// Seconds from `from` to `to` (dates or timestamps); nullopt for other types or bad text.
std::optional<double> seconds_between(connectors::column_type type, std::string_view from,
                                      std::string_view to);

// A deterministic identity of a batch, "job/task/lo..hi", for ClickHouse dedup tokens.
std::string batch_token(std::string_view job, std::string_view task, const batch_bounds& bounds);

}  // namespace sluice::etl
