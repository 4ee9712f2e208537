#include "scheduler/dispatch_queue.hpp"

namespace sluice::scheduler {

void dispatch_queue::push(dispatch_item item) {
    if (queued_index_.contains(item.task) || active_.contains(item.task)) {
        return;
    }
    key k{item.backfill ? 1 : 0, next_seq_++};
    queued_index_.emplace(item.task, k);
    queue_.emplace(k, std::move(item));
}

bool dispatch_queue::remove(core::task_instance_id task) {
    auto it = queued_index_.find(task);
    if (it == queued_index_.end()) {
        return false;
    }
    queue_.erase(it->second);
    queued_index_.erase(it);
    return true;
}

bool dispatch_queue::admissible(const dispatch_item& item) const {
    if (item.max_active_tasks && active_in_job(item.job) >= *item.max_active_tasks) {
        return false;
    }
    if (item.pool) {
        auto slots = limits_.pools.find(*item.pool);
        if (slots != limits_.pools.end() && active_in_pool(*item.pool) >= slots->second) {
            return false;
        }
    }
    return true;
}

bool dispatch_queue::admit_now(const dispatch_item& item) {
    if (active_total_ >= limits_.workers || queued_index_.contains(item.task) ||
        active_.contains(item.task) || !admissible(item)) {
        return false;
    }
    const int cls = item.backfill ? 1 : 0;
    if (!queue_.empty() && queue_.begin()->first.first <= cls) {
        return false;
    }
    ++active_total_;
    ++active_per_job_[item.job];
    if (item.pool) {
        ++active_per_pool_[*item.pool];
    }
    active_.emplace(item.task, item);
    return true;
}

std::vector<dispatch_item> dispatch_queue::admit() {
    std::vector<dispatch_item> out;
    for (auto it = queue_.begin(); it != queue_.end() && active_total_ < limits_.workers;) {
        if (!admissible(it->second)) {
            ++it;
            continue;
        }
        dispatch_item item = std::move(it->second);
        queued_index_.erase(item.task);
        it = queue_.erase(it);
        ++active_total_;
        ++active_per_job_[item.job];
        if (item.pool) {
            ++active_per_pool_[*item.pool];
        }
        active_.emplace(item.task, item);
        out.push_back(std::move(item));
    }
    return out;
}

bool dispatch_queue::release(core::task_instance_id task) {
    auto it = active_.find(task);
    if (it == active_.end()) {
        return false;
    }
    --active_total_;
    --active_per_job_[it->second.job];
    if (it->second.pool) {
        --active_per_pool_[*it->second.pool];
    }
    active_.erase(it);
    return true;
}

bool dispatch_queue::rekey(core::task_instance_id placeholder, core::task_instance_id task,
                           core::run_id run) {
    auto it = active_.find(placeholder);
    if (it == active_.end() || active_.contains(task)) {
        return false;
    }
    dispatch_item item = std::move(it->second);
    active_.erase(it);
    item.task = task;
    item.run = run;
    active_.emplace(task, std::move(item));
    return true;
}

int dispatch_queue::active_in_job(const std::string& job) const {
    auto it = active_per_job_.find(job);
    return it == active_per_job_.end() ? 0 : it->second;
}

int dispatch_queue::active_in_pool(const std::string& pool) const {
    auto it = active_per_pool_.find(pool);
    return it == active_per_pool_.end() ? 0 : it->second;
}

}  // namespace sluice::scheduler
