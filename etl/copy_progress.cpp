#include "etl/copy_progress.hpp"

#include <utility>

namespace sluice::etl {

copy_progress::copy_progress(const scheduler::task_context& context,
                             std::chrono::milliseconds interval)
    : context_(context), interval_(interval), started_(std::chrono::steady_clock::now()) {}

void copy_progress::read(std::uint64_t rows, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    state_.rows_read += rows;
    state_.bytes += bytes;
}

void copy_progress::reread(std::uint64_t rows, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    state_.rows_reread += rows;
    state_.bytes += bytes;
}

void copy_progress::written(std::uint64_t rows) {
    std::lock_guard lock(mutex_);
    state_.rows_written += rows;
}

void copy_progress::deleted(std::uint64_t rows) {
    {
        std::lock_guard lock(mutex_);
        state_.rows_deleted += rows;
    }
    report();
}

void copy_progress::batch_done(std::optional<std::string> mark_json,
                               std::optional<double> lag_seconds) {
    {
        std::lock_guard lock(mutex_);
        ++state_.batches;
        if (mark_json) {
            state_.mark = std::move(mark_json);
        }
        if (lag_seconds) {
            state_.lag_seconds = lag_seconds;
        }
    }
    report();
}

void copy_progress::set_lag(std::optional<double> lag_seconds) {
    std::lock_guard lock(mutex_);
    if (lag_seconds) {
        state_.lag_seconds = lag_seconds;
    }
}

scheduler::task_progress copy_progress::snapshot() const {
    std::lock_guard lock(mutex_);
    scheduler::task_progress p = state_;
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    p.rows_per_second = secs > 0 ? static_cast<double>(p.rows_written) / secs : 0;
    return p;
}

void copy_progress::report(bool final) {
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        if (!final && last_report_ && now - *last_report_ < interval_) {
            return;
        }
        last_report_ = now;
    }
    scheduler::task_progress p = snapshot();
    p.done = final;
    if (context_.on_progress) {
        context_.on_progress(p);
    }
}

}  // namespace sluice::etl
