#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "connectors/row_batch.hpp"
#include "core/error.hpp"
#include "etl/attempt_stop.hpp"
#include "etl/copy_cursor.hpp"

// The copy task's two stages: an extract thread reads batch N+1 while the caller's thread loads
// batch N. The hand-off holds one batch and the extract thread starts a read only once the slot
// is empty, so at most two batches exist at any time (one loading, one read or waiting): memory
// is bounded by 2 x batch size whatever the table's size.
namespace sluice::etl {

// One batch read from the source: its rows (one chunk unless a batch outgrew the byte bound)
// and, for incremental reads, its bounds.
struct extracted_batch {
    std::vector<connectors::row_batch> chunks;
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
    std::optional<batch_bounds> bounds;  // incremental reads
    std::optional<double> lag_seconds;   // measured with this batch, when it was
};

// Produces the next batch, nullopt at the end. Runs on the extract thread.
using batch_producer = std::function<core::result<std::optional<extracted_batch>>()>;

class copy_pipeline {
public:
    // Starts the extract thread.
    explicit copy_pipeline(batch_producer produce);
    // Abandons the pipeline (wakes and joins the extract thread).
    ~copy_pipeline();
    copy_pipeline(const copy_pipeline&) = delete;
    copy_pipeline& operator=(const copy_pipeline&) = delete;

    // The next batch; nullopt once the producer is done. An error from the producer comes out
    // here, after the batches it produced before.
    core::result<std::optional<extracted_batch>> take();

    // Stops the extract thread after its current read (the caller cancels the source when it
    // must not wait for it) and joins it.
    void close();

private:
    void extract();

    batch_producer produce_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<extracted_batch> slot_;
    std::optional<core::error> error_;
    bool producer_done_ = false;
    bool closed_ = false;
    std::thread thread_;  // last: started once everything above is initialized
};

// Watches the stop signal and the deadline while the copy runs; when either fires it calls
// `cancel` (source and sink cancel) and repeats it until finished, since a cancel that races
// with the start of a statement can miss it.
class copy_stop_watch {
public:
    copy_stop_watch(const scheduler::task_context& context, std::function<void()> cancel);
    ~copy_stop_watch();
    copy_stop_watch(const copy_stop_watch&) = delete;
    copy_stop_watch& operator=(const copy_stop_watch&) = delete;

    void finish();
    std::optional<stop_cause> cause() const;
    // Sleeps up to `d`; returns early (false) when a stop is pending or after
    // interrupt_sleeps().
    bool sleep_for(std::chrono::milliseconds d);
    // Ends the current and every later sleep_for at once (the load failed: the extract thread
    // must not sleep out its pause before it can be joined).
    void interrupt_sleeps();

private:
    void watch();

    const scheduler::task_context& context_;
    std::function<void()> cancel_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    bool interrupted_ = false;
    std::optional<stop_cause> cause_;
    std::thread thread_;  // last
};

}  // namespace sluice::etl
