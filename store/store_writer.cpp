#include "store/store_writer.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <utility>

namespace sluice::store {

store_writer::store_writer(scheduler::run_store& store)
    : store_(store), thread_([this] { run(); }) {}

store_writer::~store_writer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void store_writer::submit(std::vector<scheduler::transition> transitions, completion done) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            pending_.push_back({std::move(transitions), std::move(done)});
            wake_.notify_one();
            return;
        }
    }
    done(core::error::permanent("store writer: shutting down, transition batch not written"));
}

std::future<core::result<store_writer::outcomes>> store_writer::submit(
    std::vector<scheduler::transition> transitions) {
    auto promise = std::make_shared<std::promise<core::result<outcomes>>>();
    auto future = promise->get_future();
    submit(std::move(transitions),
           [promise](core::result<outcomes> r) { promise->set_value(std::move(r)); });
    return future;
}

std::future<core::result<scheduler::transition_outcome>> store_writer::submit(
    scheduler::transition t) {
    auto promise = std::make_shared<std::promise<core::result<scheduler::transition_outcome>>>();
    auto future = promise->get_future();
    std::vector<scheduler::transition> one;
    one.push_back(std::move(t));
    submit(std::move(one), [promise](core::result<outcomes> r) {
        if (r) {
            promise->set_value(r->at(0));
        } else {
            promise->set_value(r.error());
        }
    });
    return future;
}

void store_writer::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) {
            return;  // stopping and drained
        }
        // Whole submissions only, up to the bound; the first one always goes in.
        std::vector<request> batch;
        std::size_t size = 0;
        while (!pending_.empty() && (batch.empty() || size + pending_.front().transitions.size() <=
                                                          max_batch_transitions)) {
            size += pending_.front().transitions.size();
            batch.push_back(std::move(pending_.front()));
            pending_.pop_front();
        }
        lock.unlock();
        commit(batch);
        lock.lock();
    }
}

void store_writer::commit(std::vector<request>& batch) {
    if (batch.size() == 1) {
        commit_alone(batch.front());
        return;
    }
    std::vector<scheduler::transition> all;
    for (const request& r : batch) {
        all.insert(all.end(), r.transitions.begin(), r.transitions.end());
    }
    auto result = timed_apply(all);
    if (result && result->size() != all.size()) {
        result = core::error::permanent("store writer: the store returned " +
                                        std::to_string(result->size()) + " outcomes for " +
                                        std::to_string(all.size()) + " transitions");
    }
    if (!result && result.error().cls == core::error_class::permanent) {
        for (request& r : batch) {
            commit_alone(r);
        }
        return;
    }
    std::size_t offset = 0;
    for (request& r : batch) {
        if (!result) {
            r.done(result.error());
            continue;
        }
        auto first = result->begin() + static_cast<std::ptrdiff_t>(offset);
        offset += r.transitions.size();
        r.done(outcomes(first, first + static_cast<std::ptrdiff_t>(r.transitions.size())));
    }
}

void store_writer::commit_alone(request& r) {
    r.done(timed_apply(r.transitions));
}

core::result<store_writer::outcomes> store_writer::timed_apply(
    std::span<const scheduler::transition> batch) {
    const auto start = std::chrono::steady_clock::now();
    auto result = store_.apply(batch);
    if (commit_observer_) {
        commit_observer_(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return result;
}

}  // namespace sluice::store
