#include "etl/copy_pipeline.hpp"

#include <utility>

namespace sluice::etl {

namespace {

// How often the stop signal and the deadline are checked, and how often a cancel is repeated.
constexpr std::chrono::milliseconds poll_interval{20};
constexpr std::chrono::milliseconds cancel_interval{250};

}  // namespace

copy_pipeline::copy_pipeline(batch_producer produce)
    : produce_(std::move(produce)), thread_([this] { extract(); }) {}

copy_pipeline::~copy_pipeline() {
    close();
}

void copy_pipeline::extract() {
    for (;;) {
        {
            // Read the next batch only once the previous one was taken: two batches at most.
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [this] { return closed_ || !slot_; });
            if (closed_) {
                break;
            }
        }
        auto next = produce_();
        std::lock_guard lock(mutex_);
        if (!next) {
            error_ = next.error();
            break;
        }
        if (!*next || closed_) {
            break;
        }
        slot_ = std::move(**next);
        changed_.notify_all();
    }
    std::lock_guard lock(mutex_);
    producer_done_ = true;
    changed_.notify_all();
}

core::result<std::optional<extracted_batch>> copy_pipeline::take() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return slot_.has_value() || producer_done_; });
    if (slot_) {
        std::optional<extracted_batch> out = std::move(slot_);
        slot_.reset();
        changed_.notify_all();
        return out;
    }
    if (error_) {
        return *error_;
    }
    return std::optional<extracted_batch>();
}

void copy_pipeline::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        slot_.reset();
    }
    changed_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

copy_stop_watch::copy_stop_watch(const scheduler::task_context& context,
                                 std::function<void()> cancel)
    : context_(context), cancel_(std::move(cancel)), thread_([this] { watch(); }) {}

copy_stop_watch::~copy_stop_watch() {
    finish();
}

void copy_stop_watch::finish() {
    {
        std::lock_guard lock(mutex_);
        done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::optional<stop_cause> copy_stop_watch::cause() const {
    std::lock_guard lock(mutex_);
    return cause_;
}

bool copy_stop_watch::sleep_for(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    std::unique_lock lock(mutex_);
    while (!cause_ && !done_ && !interrupted_) {
        if (wake_.wait_until(lock, std::min(until, std::chrono::steady_clock::now() +
                                                       poll_interval)) == std::cv_status::timeout &&
            std::chrono::steady_clock::now() >= until) {
            return true;
        }
        if (!cause_) {
            cause_ = pending_stop(context_);
        }
    }
    return false;
}

void copy_stop_watch::interrupt_sleeps() {
    {
        std::lock_guard lock(mutex_);
        interrupted_ = true;
    }
    wake_.notify_all();
}

void copy_stop_watch::watch() {
    std::unique_lock lock(mutex_);
    std::optional<std::chrono::steady_clock::time_point> last_cancel;
    while (!done_) {
        if (!cause_) {
            cause_ = pending_stop(context_);
            if (cause_) {
                wake_.notify_all();
            }
        }
        if (cause_ &&
            (!last_cancel || std::chrono::steady_clock::now() - *last_cancel >= cancel_interval)) {
            last_cancel = std::chrono::steady_clock::now();
            lock.unlock();  // a MySQL cancel opens a connection: do not block finish()
            cancel_();
            lock.lock();
            continue;
        }
        wake_.wait_for(lock, poll_interval);
    }
}

}  // namespace sluice::etl
