#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "connectors/connector_registry.hpp"
#include "scheduler/task_runner.hpp"

namespace sluice::etl {

struct copy_task_options {
    // Progress reports at most this often (and once at the end).
    std::chrono::milliseconds progress_interval{std::chrono::seconds(1)};
    // The lag (source max cursor - mark) is measured at most this often: it costs a query.
    std::chrono::milliseconds lag_interval{std::chrono::seconds(10)};
    // Test hook for the batch ledger (a crash cannot be caused for real at this exact point):
    // called on a non-transactional sink after batch `batch` (1-based, this attempt) was
    // inserted and before its mark is written; returning true ends the attempt there with a
    // transient error, as a crash would, leaving the intent open.
    std::function<bool(std::uint64_t batch)> crash_after_insert;
    // The same for `deletes: detect` on a non-transactional sink: called after the deletion
    // versions of page `page` (1-based, pages with deletions, this attempt) were inserted and
    // before the pass's position is written.
    std::function<bool(std::uint64_t page)> crash_after_delete;
};

// `type: copy` (docs/etl.md): moves rows from a source connection to a sink connection.
// Incremental with `source.cursor`: each batch reads `batch_rows` rows after the high-water
// mark in cursor order and commits them with the new mark, in one sink transaction on
// PostgreSQL, MySQL and SQLite, through a batch ledger (intent, insert, mark) on ClickHouse and
// files. The mark in the sink is the truth; it is mirrored to the store's checkpoints. Extract
// of batch N+1 overlaps the load of batch N (copy_pipeline.hpp).
class copy_task final : public scheduler::task_runner {
public:
    explicit copy_task(const connectors::connector_registry& connectors,
                       copy_task_options options = {})
        : connectors_(connectors), options_(std::move(options)) {}

    scheduler::task_outcome run(const scheduler::task_context& context) override;

private:
    const connectors::connector_registry& connectors_;
    copy_task_options options_;
};

}  // namespace sluice::etl
