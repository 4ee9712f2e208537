#pragma once

#include <optional>
#include <string>
#include <vector>

#include "connectors/column_type.hpp"
#include "connectors/row_batch.hpp"
#include "core/error.hpp"

namespace sluice::connectors {

// How a table is created from a portable schema.
struct create_options {
    std::vector<std::string>
        key;  // primary key (PostgreSQL, MySQL, SQLite); ORDER BY for ClickHouse
    // ClickHouse: the ReplacingMergeTree version column (a column of the schema); without it
    // the newest inserted row of a key wins at merge time.
    std::optional<std::string> version_column;
};

enum class write_mode {
    append,  // plain insert
    upsert,  // insert, or replace the row with the same `key` (ClickHouse: ReplacingMergeTree
             // collapses duplicates at merge time; read with FINAL). With `sequence`, a row only
             // replaces a stored row whose sequence is lower (out-of-order change events); with
             // `operation`, delete events remove the key (see the implementation for tombstones).
    scd2,    // apply change events to a type-2 history table: versions with valid_from, valid_to,
             // is_current over the `tracked` columns, ordered by `sequence` (transactional sinks)
};

struct write_request {
    std::string table;
    const connectors::schema* columns = nullptr;  // the batch's columns (names match the table)
    write_mode mode = write_mode::append;
    std::vector<std::string> key;  // upsert
    // ClickHouse: a deterministic identity of this batch (e.g. "job/task/lo..hi"), sent as
    // insert_deduplication_token to servers that have the setting (not 18.16), so a replay of
    // the same batch is dropped where the table deduplicates. Ignored elsewhere.
    std::optional<std::string> dedup_token;
    // upsert and scd2: the column that orders change events of one key (an LSN, a version, a
    // change timestamp). Replayed or out-of-order events never undo a newer one.
    std::optional<std::string> sequence;
    // upsert and scd2: the column naming the change (insert, update or delete); without it every
    // row is an insert-or-update.
    std::optional<std::string> operation;
    // scd2: the columns whose change opens a new version; empty = every column of the batch but
    // the key, `sequence`, `operation` and `valid_from`.
    std::vector<std::string> tracked;
    // scd2: the column giving a version's valid_from (its event time); default `sequence`.
    std::optional<std::string> valid_from;
};

// The high-water mark stored in the sink, next to the rows it covers.
struct checkpoint {
    std::string key;    // "job/task"
    std::string value;  // JSON text, owned by the caller
};

// Writes rows into one connection. Calls block (run them on the blocking pool); one thread at a
// time, except cancel(). Messages never contain the password.
class sink {
public:
    virtual ~sink() = default;

    // The table's columns mapped to portable types; nullopt when the table does not exist.
    virtual core::result<std::optional<schema>> describe_table(const std::string& table) = 0;

    // Creates the table from a portable schema (an error when it exists).
    virtual core::result<void> create_table(const std::string& table, const schema& columns,
                                            const create_options& options) = 0;

    // True when begin/commit make rows and checkpoint atomic (PostgreSQL, MySQL, SQLite). Files
    // and ClickHouse return false: begin/commit are then accepted and do nothing, and the caller
    // makes replays idempotent instead (ClickHouse: upsert key + dedup token; files: replace).
    virtual bool transactional() const = 0;

    virtual core::result<void> begin() = 0;
    // Writes every row of `rows`; inside begin/commit on a transactional sink.
    virtual core::result<void> write(const write_request& request, const row_batch& rows) = 0;
    // Upserts the checkpoint row (table `sluice_checkpoints`, created when missing) in the open
    // transaction, so it commits with the rows written since begin().
    virtual core::result<void> write_checkpoint(const checkpoint& mark) = 0;
    // The stored value for `key`, nullopt when none.
    virtual core::result<std::optional<std::string>> read_checkpoint(const std::string& key) = 0;
    virtual core::result<void> commit() = 0;
    // Undoes everything since begin(); safe to call when no transaction is open.
    virtual core::result<void> rollback() = 0;

    // Aborts a statement in flight (best effort, thread-safe).
    virtual void cancel() = 0;

    // True when write() accepts `mode` (every sink takes append; upsert and scd2 vary).
    virtual bool supports(write_mode mode) const { return mode == write_mode::append; }

    // `mode: replace` (a full refresh): creates an empty staging table shaped like `table` (or
    // from `columns` when `table` does not exist yet), dropping a staging table a crashed
    // attempt left behind, and returns its name; the caller writes every row into it and then
    // calls finish_replace, which swaps it in for `table` atomically (readers see the old rows
    // or the new ones, never a mix or no table) and drops the old rows.
    virtual core::result<std::string> begin_replace(const std::string& table, const schema& columns,
                                                    const create_options& options) {
        (void)table;
        (void)columns;
        (void)options;
        return core::error::permanent("this sink does not support mode: replace");
    }
    virtual core::result<void> finish_replace(const std::string& staging,
                                              const std::string& table) {
        (void)staging;
        (void)table;
        return core::error::permanent("this sink does not support mode: replace");
    }
    // `deletes: detect` (docs/etl.md, "Deleted rows"): removes the rows of `table` whose key
    // (the columns of `key`, with their types) equals one of the rows of `keys`, and returns
    // how many rows went. Transactional sinks DELETE inside the open transaction; a key that is
    // not there is no error, so a repeated call changes nothing. ClickHouse inserts a deletion
    // version of each live row (a copy with `_deleted` = 1), which FINAL and merges keep over
    // the row it copies; a key whose row is deleted already gets none.
    virtual core::result<std::uint64_t> delete_keys(const std::string& table, const schema& key,
                                                    const row_batch& keys) {
        (void)table;
        (void)key;
        (void)keys;
        return core::error::permanent("this sink does not support deletes: detect");
    }

    // Drops the staging table of an abandoned replace (best effort).
    virtual core::result<void> abandon_replace(const std::string& staging) {
        (void)staging;
        return {};
    }
};

}  // namespace sluice::connectors
