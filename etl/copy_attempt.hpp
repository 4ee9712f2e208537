#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "connectors/connector_registry.hpp"
#include "etl/copy_cursor.hpp"
#include "etl/copy_pipeline.hpp"
#include "etl/copy_progress.hpp"
#include "etl/copy_task.hpp"

namespace sluice::etl {

// `e` with `what` in front of its message ("writing to dst.t: <server message>").
inline core::error with_context(core::error e, const std::string& what) {
    e.message = what + ": " + e.message;
    return e;
}

// One attempt of a copy task: opens the connections, prepares the sink table, reads the mark,
// replays an open ledger intent, then moves batches until the source is drained, the batch
// budget is spent, or a stop arrives. Lives on the worker thread for the attempt's duration.
// deletes: detect reads keys in pages of `batch_rows`, at most this many: two pages of keys are
// in memory at once.
constexpr std::size_t max_key_page_rows = 100'000;

class copy_attempt {
public:
    copy_attempt(const scheduler::task_context& context, const config::copy_spec& spec,
                 const connectors::connector_registry& connectors,
                 const copy_task_options& options);

    scheduler::task_outcome run();

private:
    // Setup steps, in order.
    core::result<void> open();
    core::result<void> prepare_sink_table();
    core::result<void> load_checkpoint();
    core::result<void> replay_intent();
    // copy_deletes.cpp (`deletes: detect`): checks the key before anything is copied, then
    // runs the pass after the copy.
    core::result<void> prepare_deletes();
    core::result<void> detect_deletes();

    // The two ways to move rows.
    core::result<void> copy_incremental();
    core::result<void> copy_full();

    // Incremental: reads the next batch after `position_` (extract thread).
    core::result<std::optional<extracted_batch>> next_batch();
    // How many rows of `batch` are at or before reread_until_ (extract thread).
    std::uint64_t count_reread(const extracted_batch& batch);
    // Incremental: writes one batch and commits its mark (load thread).
    core::result<void> load_batch(const extracted_batch& batch);
    // Writes every chunk of `rows`.
    // What the sink is asked to do with a batch for `table` (mode, key, change-event columns).
    connectors::write_request write_request_for(const std::string& table) const;
    core::result<void> write_rows(const std::vector<connectors::row_batch>& rows,
                                  const std::optional<std::string>& dedup_token);
    // Stores the checkpoint in the sink, then mirrors it to the store.
    core::result<void> write_mark(bool in_transaction);
    void mirror_mark();
    // copy_exactly_once.cpp: the ledger replay and the per-batch commit.
    // True when the rows of an open intent are in an append sink already (ClickHouse).
    core::result<bool> intent_landed(const batch_bounds& bounds);
    // Source max cursor minus `from` in seconds (time cursors), at most every lag_interval.
    std::optional<double> measure_lag(const cursor_values& from, bool force);

    // copy_deletes.cpp: the source's keys (the key columns, their expressions, in key order);
    // the keys of a sink page that the source no longer has; and one page's commit: deletes
    // `missing` and stores `position` (none: the pass is complete) as the pass's restart point.
    connectors::read_request source_keys_request() const;
    core::result<std::vector<cursor_values>> missing_keys(
        const std::vector<cursor_values>& sink_keys);
    core::result<std::uint64_t> delete_page(const std::vector<cursor_values>& missing,
                                            std::optional<cursor_values> position);

    std::string location() const;
    scheduler::task_outcome finish(core::result<void> done);
    // copy_exactly_once.cpp: records in the store that this attempt leaves its open batch
    // uncommitted, and why; and what the replay should say of an open batch.
    void note_open_batch(const std::string& why);
    std::string open_batch_origin(const batch_bounds& bounds);

    const scheduler::task_context& context_;
    const config::copy_spec& spec_;
    const connectors::connector_registry& connectors_;
    const copy_task_options& options_;
    const config::connection_spec* source_conn_ = nullptr;
    const config::connection_spec* sink_conn_ = nullptr;
    std::unique_ptr<connectors::source> source_;
    std::unique_ptr<connectors::sink> sink_;
    // deletes: detect: a source on the sink's connection, which reads the sink table's keys.
    std::unique_ptr<connectors::source> sink_keys_;
    connectors::schema key_schema_;  // the key columns, typed as the source reads them
    std::vector<connectors::column_type> key_types_;
    std::size_t key_page_rows_ = 0;
    std::uint64_t delete_pages_ = 0;  // pages with deletions, this attempt (test hook)
    connectors::read_request base_;
    connectors::schema schema_;
    std::string sink_table_;
    connectors::write_mode mode_ = connectors::write_mode::append;
    std::vector<std::size_t> cursor_index_;  // in schema_
    std::vector<connectors::column_type> cursor_types_;
    std::string checkpoint_key_;  // "job/task"
    copy_checkpoint checkpoint_;
    std::optional<connectors::cursor_bound> position_;  // extract thread only
    bool drained_ = false;                              // extract thread only
    std::optional<cursor_values> lag_reference_;        // extract thread only: the newest row read
    // Extract thread only: rows up to this cursor were copied before (the mark when a lookback
    // window starts before it); reading them again is a re-read.
    std::optional<cursor_values> reread_until_;
    std::uint64_t batches_read_ = 0;  // extract thread only
    std::uint64_t batches_loaded_ = 0;
    // The open intent is in the sink's ledger (written by this attempt): if the attempt ends
    // without committing it, the store is told why, so the next attempt's replay can say so.
    bool intent_written_ = false;
    std::optional<std::chrono::steady_clock::time_point> last_lag_;
    copy_progress progress_;
    std::unique_ptr<copy_stop_watch> watch_;
};

}  // namespace sluice::etl
