#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "scheduler/task_runner.hpp"

namespace sluice::etl {

// Counts what a copy attempt moved and reports it through context.on_progress at most once per
// `interval` (and always at the end), so a fast copy does not flood the event stream.
// Thread-safe: the extract thread counts reads, the load thread writes.
class copy_progress {
public:
    explicit copy_progress(const scheduler::task_context& context,
                           std::chrono::milliseconds interval = std::chrono::seconds(1));

    // Rows read for the first time, and rows read again (inside the lookback window before the
    // mark, or of a replayed batch): counted apart so that a re-read row is never counted twice.
    void read(std::uint64_t rows, std::uint64_t bytes);
    void reread(std::uint64_t rows, std::uint64_t bytes);
    void written(std::uint64_t rows);
    // Sink rows deleted because their key is gone from the source (deletes: detect).
    void deleted(std::uint64_t rows);
    // A batch committed with its mark (JSON array) and, when measured, the lag behind the
    // source.
    void batch_done(std::optional<std::string> mark_json, std::optional<double> lag_seconds);
    void set_lag(std::optional<double> lag_seconds);

    // Reports when `interval` has passed since the last report (or always when `final`).
    void report(bool final = false);

    scheduler::task_progress snapshot() const;

private:
    const scheduler::task_context& context_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point started_;
    std::optional<std::chrono::steady_clock::time_point> last_report_;
    mutable std::mutex mutex_;
    scheduler::task_progress state_;
};

}  // namespace sluice::etl
