#pragma once

// Keeps the store from growing forever (docs/operations.md, "Retention"): on a thread of its own,
// a pass shortly after startup and then every `every`, each a series of small prune batches
// with a pause between them, so the engine's own store calls wait for one batch at most. A
// change of `retention` takes effect at the next start.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "config/spec.hpp"
#include "scheduler/retention.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::daemon {

// The cutoffs `retention` means at `now` (a zero age keeps that kind forever).
scheduler::retention_cutoffs cutoffs_at(const config::retention_spec& retention,
                                        std::chrono::system_clock::time_point now);

// Prunes until a batch removes nothing, `stop` returns true or a store call fails (the error is
// returned with what was removed until then). `pause` separates batches.
struct prune_outcome {
    scheduler::prune_counts removed;
    std::optional<core::error> failed;
};
prune_outcome prune_all(scheduler::run_store& store, const scheduler::retention_cutoffs& cutoffs,
                        std::int64_t batch, std::chrono::milliseconds pause,
                        const std::function<bool()>& stop);

struct pruner_options {
    std::chrono::milliseconds first_pass{std::chrono::minutes(1)};
    std::chrono::milliseconds every{std::chrono::hours(1)};
    std::int64_t batch = 500;  // rows of each kind per transaction
    std::chrono::milliseconds pause{20};
};

class pruner {
public:
    pruner(scheduler::run_store& store, config::retention_spec retention,
           pruner_options options = {});
    ~pruner();  // stops: an ongoing pass ends after its current batch
    pruner(const pruner&) = delete;
    pruner& operator=(const pruner&) = delete;

    // Passes completed so far (for tests).
    int passes() const;

private:
    void run();

    scheduler::run_store& store_;
    const pruner_options options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    const config::retention_spec retention_;
    bool stopping_ = false;
    int passes_ = 0;
    std::thread thread_;
};

}  // namespace sluice::daemon
