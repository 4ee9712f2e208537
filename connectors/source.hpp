#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/column_type.hpp"
#include "connectors/row_batch.hpp"
#include "core/error.hpp"

namespace sluice::connectors {

// A tuple bound on the cursor columns: rows whose (c1, c2, ...) compares greater than (or, when
// `inclusive`, equal to) `values`, the canonical text of each column's type. A value shorter
// than `columns` bounds only the leading columns (lookback re-reads use the first column alone).
struct cursor_bound {
    std::vector<std::string> columns;
    std::vector<std::string> values;
    bool inclusive = false;
};

// What to read. Database sources read `table` or `query` (exactly one); file sources read the
// file `table` names, relative to the connection's directory; HTTP sources append `table` to
// the connection url.
struct read_request {
    std::optional<std::string> table;
    std::optional<std::string> query;  // a SELECT in the source's dialect, used as a subquery
    // Select list: each entry is a column name (quoted by the source) unless `expressions` holds
    // its SQL, in which case the entry is its output name. Empty = every column.
    std::vector<std::string> columns;
    std::vector<std::optional<std::string>> expressions;  // parallel to columns, or empty
    std::optional<cursor_bound> after;                    // incremental lower bound
    // Incremental upper bound: rows whose cursor tuple compares less than (or, when
    // `inclusive`, equal to) it. Database sources only (a ledger replay re-reads lo..hi).
    std::optional<cursor_bound> until;
    std::optional<std::string> where;  // extra predicate in the source's dialect
    // ClickHouse only (never set for another engine): read `table` FINAL, the rows a
    // ReplacingMergeTree collapses to, so a superseded version is never seen.
    bool final = false;
    std::vector<std::string> order_by;   // columns, ascending (the cursor for incremental reads)
    std::optional<std::uint64_t> limit;  // rows in all
    // For sources without declared types (CSV, JSON Lines, HTTP): the types to decode columns
    // into, by name (typically the sink table's). Without it such columns read as text/json.
    std::optional<schema> expected;
    // HTTP sources: the field of a page holding its rows (none: the page is the array), the
    // field holding the next page's link or cursor, and the query parameter a cursor goes in.
    std::optional<std::string> records_field;
    std::optional<std::string> next_page_field;
    std::string cursor_parameter = "cursor";
    batch_limits limits;
};

// An open read: the result's columns, then its rows batch by batch. Rows stream from the
// server (COPY, mysql_use_result, an HTTP body); at most one batch is held in memory.
class row_reader {
public:
    virtual ~row_reader() = default;
    // The columns of every batch, known once the reader is open.
    virtual const connectors::schema& schema() const = 0;
    // Replaces `out` with the next rows (up to the request's limits); false at the end (then
    // `out` is empty). An error leaves the reader unusable.
    virtual core::result<bool> next(row_batch& out) = 0;
};

// Reads rows from one connection. Calls block (run them on the blocking pool); one thread at a
// time, except cancel(). Messages never contain the password.
class source {
public:
    virtual ~source() = default;

    // The columns `request` would produce, without reading rows.
    virtual core::result<connectors::schema> describe(const read_request& request) = 0;

    // Starts reading; the reader must be destroyed before the next call on this source.
    virtual core::result<std::unique_ptr<row_reader>> read(const read_request& request) = 0;

    // The greatest value of the cursor tuple among the rows `request` selects (its `after`,
    // `limit` and `order_by` are ignored), for lag; nullopt when there is no row. Values are
    // canonical text; a NULL column value is nullopt inside the tuple.
    virtual core::result<std::optional<std::vector<std::optional<std::string>>>> max_cursor(
        const read_request& request, const std::vector<std::string>& cursor) = 0;

    // Aborts a read or query in flight (best effort, thread-safe).
    virtual void cancel() = 0;
};

}  // namespace sluice::connectors
