#pragma once

// Dispatcher admission (docs/architecture.md#states): queued task instances wait here until a
// worker slot, their job's max_active_tasks and their pool's slots allow them to start. Scheduled
// and manual runs go before backfill runs; FIFO within a class. A blocked entry (its pool or job is
// full) does not hold back the entries behind it. Pure bookkeeping: not thread-safe, used on the
// control loop only.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ids.hpp"

namespace sluice::scheduler {

struct dispatch_limits {
    int workers = 1;                   // attempts running at once, all jobs together
    std::map<std::string, int> pools;  // pool name -> slots; a pool not listed is unbounded
};

struct dispatch_item {
    core::task_instance_id task;
    core::run_id run;
    std::string job;
    std::optional<std::string> pool;
    std::optional<int> max_active_tasks;  // the job's limit; nullopt = workers only
    bool backfill = false;
};

class dispatch_queue {
public:
    explicit dispatch_queue(dispatch_limits limits) : limits_(std::move(limits)) {}

    // Queues an item (a task instance is queued at most once; a second push is ignored).
    void push(dispatch_item item);
    // Drops a queued item (its run was canceled); false when it is not queued.
    bool remove(core::task_instance_id task);
    // The items that may start now, in priority order; they count as active until released.
    std::vector<dispatch_item> admit();
    // Admits `item` at once, without queueing it, when a worker slot and its limits allow and
    // nothing of its class or a higher one waits (so it never overtakes a queued item). Lets
    // the engine start a task in the same commit that made it ready. False: push() it.
    bool admit_now(const dispatch_item& item);
    // Gives an admitted item its store ids: a task the engine admitted before its run existed
    // (created already started, engine_create_runs.cpp) is admitted under a placeholder id.
    // False when `placeholder` is not active.
    bool rekey(core::task_instance_id placeholder, core::task_instance_id task, core::run_id run);
    // An admitted item's attempt ended; frees its slots. False when it was not active.
    bool release(core::task_instance_id task);

    std::size_t queued() const { return queue_.size(); }
    int active() const { return active_total_; }
    int active_in_job(const std::string& job) const;
    int active_in_pool(const std::string& pool) const;

private:
    using key = std::pair<int, std::uint64_t>;  // (class: 0 scheduled/manual, 1 backfill; seq)

    bool admissible(const dispatch_item& item) const;

    dispatch_limits limits_;
    std::uint64_t next_seq_ = 0;
    std::map<key, dispatch_item> queue_;
    std::unordered_map<core::task_instance_id, key> queued_index_;
    std::unordered_map<core::task_instance_id, dispatch_item> active_;
    std::map<std::string, int> active_per_job_;
    std::map<std::string, int> active_per_pool_;
    int active_total_ = 0;
};

}  // namespace sluice::scheduler
