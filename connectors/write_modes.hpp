#pragma once

// The table layouts and event rules of the sink write modes (docs/etl.md, "Sink modes"), shared
// by the concrete sinks and by the copy task, which creates sink tables from them.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sink.hpp"
#include "connectors/sql_errors.hpp"
#include "core/error.hpp"

namespace sluice::connectors {

// upsert with `operation`: a delete keeps the row as a tombstone with this flag set, so a late
// older insert of the key cannot bring it back (its sequence is lower than the tombstone's).
constexpr std::string_view deleted_column = "_deleted";
// scd2 history columns added to the batch's own.
constexpr std::string_view valid_from_column = "valid_from";
constexpr std::string_view valid_to_column = "valid_to";
constexpr std::string_view is_current_column = "is_current";

// What a change event does: insert/update ("insert", "update", "I", "U", "c", "u", any case)
// or delete ("delete", "D", "d"); nullopt for any other value.
enum class change_kind { upsert, remove };
std::optional<change_kind> parse_operation(std::string_view value);

// The sink table a write_request needs, from the batch's columns: the batch as is for append and
// plain upsert; plus `_deleted` (boolean, not null) for upsert with `operation`; for scd2 the
// history layout: the batch's columns, then `valid_from` (typed like its source column, unless
// that column is itself named valid_from), `valid_to` (same type, NULL = open) and `is_current`.
// A permanent error names a missing key/sequence/valid_from column or a name clash.
core::result<schema> sink_table_schema(const schema& batch, const write_request& request);
// The create_options for that table: key = the request's key (scd2: key + sequence, the unique
// index that makes a replayed event a no-op); ClickHouse version column = the sequence.
create_options sink_create_options(const write_request& request);

// A write_request resolved against its batch: column positions, checked once per write.
struct write_plan {
    std::vector<std::size_t> key;
    std::optional<std::size_t> sequence;
    std::optional<std::size_t> operation;
    std::optional<std::size_t> valid_from;  // scd2: the source of history valid_from
    std::vector<std::size_t> tracked;       // scd2
    bool extra_valid_from = false;          // scd2: valid_from is a column the batch lacks
};

// Resolves `request` for `mode` (upsert or scd2). Permanent errors (naming the connection and
// table) for a missing key, an unknown key/sequence/operation/tracked column, scd2 without
// sequence, or a batch column clashing with the history columns.
core::result<write_plan> plan_write(const write_request& request, const std::string& connection);

// Checks every row of `rows` before anything is sent: the sequence (and scd2 valid_from) is not
// NULL, the operation is known. Fills `deleted` (one flag per row) when the plan has an
// operation column. The error names the row (1-based in the batch) and the value.
core::result<void> check_events(const write_plan& plan, const write_request& request,
                                const row_batch& rows, const std::string& connection,
                                std::vector<bool>& deleted);

// The SQL dialect pieces the scd2 recomputation needs.
struct scd2_dialect {
    std::function<std::string(std::string_view)> identifier;
    // A null-safe "a differs from b" predicate for a column of `type`.
    std::function<std::string(const std::string& a, const std::string& b, column_type type)>
        distinct;
};

// scd2 keeps every change event of a history table `T` once in `T__sluice_events` (the batch's
// columns and valid_from, unique on key + sequence: a replayed event is a no-op) and rebuilds the
// versions of the batch's keys in `T` from it, so events arriving in any order give the history
// in-order events give.
std::string scd2_events_name(const std::string& history);

// SELECT the versions of the keys present in `keys_table` from `events`: the batch's columns,
// then `valid_from` (when the batch lacks it), sluice_valid_to and sluice_is_current (0/1).
// Per key, in sequence order, an event opens a version when it is not a delete and is the first,
// follows a delete or changes a tracked column; a delete or a change of untracked columns only
// opens none. A version keeps the sequence and valid_from of the event that opened it and the
// other columns of its last event (untracked changes update it in place); it runs to the
// valid_from of the next version or delete (NULL = open, and then it is current).
std::string scd2_versions_select(const write_request& request, const write_plan& plan,
                                 const scd2_dialect& dialect, const std::string& events,
                                 const std::string& keys_table);

// A deterministic per-table name: `<table>` + suffix, for replace staging and old tables.
std::string replace_staging_name(const std::string& table);
std::string replace_old_name(const std::string& table);
// The last part of a dotted name ("db.t" -> "t"): RENAME TO takes it unqualified.
std::string unqualified(const std::string& table);

// The ALTER TABLE ... RENAME statements (PostgreSQL, SQLite) that swap a replace's staging
// table in for `table`, "; "-separated and ending in "; ": an `existing` table is renamed to
// its old name first and dropped after. The caller runs them in one transaction.
std::string rename_swap_sql(const std::function<std::string(std::string_view)>& identifier,
                            const std::string& staging, const std::string& table, bool existing);

// "left.k1 = right.k1 AND left.k2 = right.k2": the rows of two tables with the same key.
std::string key_match_sql(const std::vector<std::string>& key,
                          const std::function<std::string(std::string_view)>& identifier,
                          const std::string& left, const std::string& right);

// deletes: detect: the most keys one DELETE (or ClickHouse deletion INSERT) names, so a
// statement stays far below every engine's statement and packet limits.
constexpr std::size_t delete_statement_keys = 1000;

// "k IN (l1, l2)" for a one-column key, else "(k1 = l AND k2 = l) OR (...)" (every engine's
// planner turns this into key lookups): rows `from` to `to` (exclusive) of `keys`, whose
// columns are the key's in order; `literal(column, value)` spells one value.
std::string key_list_predicate(
    const std::vector<std::string>& key,
    const std::function<std::string(std::string_view)>& identifier,
    const std::function<std::string(std::size_t column, std::string_view value)>& literal,
    const row_batch& keys, std::size_t from, std::size_t to);

}  // namespace sluice::connectors
