#include "daemon/pruner.hpp"

#include <spdlog/spdlog.h>

#include "core/logging.hpp"

namespace sluice::daemon {

scheduler::retention_cutoffs cutoffs_at(const config::retention_spec& retention,
                                        std::chrono::system_clock::time_point now) {
    const auto cutoff = [&](core::duration age) -> std::optional<core::time_point> {
        if (age <= core::duration::zero()) {
            return std::nullopt;
        }
        return std::chrono::time_point_cast<core::time_point::duration>(now - age);
    };
    return scheduler::retention_cutoffs{cutoff(retention.runs), cutoff(retention.logs),
                                        cutoff(retention.events)};
}

prune_outcome prune_all(scheduler::run_store& store, const scheduler::retention_cutoffs& cutoffs,
                        std::int64_t batch, std::chrono::milliseconds pause,
                        const std::function<bool()>& stop) {
    prune_outcome out;
    if (cutoffs.keeps_everything()) {
        return out;
    }
    while (!stop()) {
        auto removed = store.prune_batch(cutoffs, batch);
        if (!removed) {
            out.failed = removed.error();
            return out;
        }
        out.removed += *removed;
        if (removed->empty()) {
            break;
        }
        std::this_thread::sleep_for(pause);
    }
    return out;
}

pruner::pruner(scheduler::run_store& store, config::retention_spec retention,
               pruner_options options)
    : store_(store), options_(options), retention_(retention) {
    thread_ = std::thread([this] { run(); });
}

pruner::~pruner() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

int pruner::passes() const {
    std::lock_guard lock(mutex_);
    return passes_;
}

void pruner::run() {
    auto log = core::component_logger("retention");
    auto wait = options_.first_pass;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (wake_.wait_for(lock, wait, [this] { return stopping_; })) {
                return;
            }
        }
        wait = options_.every;
        const auto cutoffs = cutoffs_at(retention_, std::chrono::system_clock::now());
        const auto outcome = prune_all(store_, cutoffs, options_.batch, options_.pause, [this] {
            std::lock_guard lock(mutex_);
            return stopping_;
        });
        const auto& n = outcome.removed;
        if (!n.empty()) {
            log->info(
                "retention: removed {} runs ({} task instances), {} log lines, {} events, "
                "{} backfills",
                n.runs, n.task_instances, n.log_lines, n.events, n.backfills);
        }
        if (outcome.failed) {
            log->warn("retention: a prune batch failed, trying again in {} s: {}",
                      std::chrono::duration_cast<std::chrono::seconds>(options_.every).count(),
                      outcome.failed->message);
        }
        std::lock_guard lock(mutex_);
        ++passes_;
    }
}

}  // namespace sluice::daemon
