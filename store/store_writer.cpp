#include "store/store_writer.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <utility>

namespace sluice::store {

std::size_t store_writer::request::size() const {
    std::size_t n = transitions.size();
    for (const scheduler::run_creation& c : creations) {
        n += 1 + c.run.tasks.size();
    }
    return n;
}

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

void store_writer::enqueue(request r) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            pending_.push_back(std::move(r));
            wake_.notify_one();
            return;
        }
    }
    r.done(core::error::permanent("store writer: shutting down, transition batch not written"));
}

void store_writer::submit(std::vector<scheduler::transition> transitions, completion done) {
    enqueue({{},
             std::move(transitions),
             [done = std::move(done)](core::result<scheduler::batch_outcomes> r) {
                 if (r) {
                     done(std::move(r->transitions));
                 } else {
                     done(r.error());
                 }
             }});
}

void store_writer::submit_runs(std::vector<scheduler::run_creation> creations,
                               creation_completion done) {
    enqueue({std::move(creations),
             {},
             [done = std::move(done)](core::result<scheduler::batch_outcomes> r) {
                 if (r) {
                     done(std::move(r->runs));
                 } else {
                     done(r.error());
                 }
             }});
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

std::future<core::result<store_writer::created_runs>> store_writer::submit_runs(
    std::vector<scheduler::run_creation> creations) {
    auto promise = std::make_shared<std::promise<core::result<created_runs>>>();
    auto future = promise->get_future();
    submit_runs(std::move(creations),
                [promise](core::result<created_runs> r) { promise->set_value(std::move(r)); });
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
        while (!pending_.empty() &&
               (batch.empty() || size + pending_.front().size() <= max_batch_transitions)) {
            size += pending_.front().size();
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
    std::vector<scheduler::run_creation> creations;
    std::vector<scheduler::transition> all;
    for (const request& r : batch) {
        creations.insert(creations.end(), r.creations.begin(), r.creations.end());
        all.insert(all.end(), r.transitions.begin(), r.transitions.end());
    }
    auto result = timed_apply(creations, all);
    if (result &&
        (result->transitions.size() != all.size() || result->runs.size() != creations.size())) {
        result = core::error::permanent(
            "store writer: the store returned " + std::to_string(result->transitions.size()) +
            " outcomes for " + std::to_string(all.size()) + " transitions and " +
            std::to_string(result->runs.size()) + " for " + std::to_string(creations.size()) +
            " run creations");
    }
    if (!result && result.error().cls == core::error_class::permanent) {
        for (request& r : batch) {
            commit_alone(r);
        }
        return;
    }
    std::size_t offset = 0;
    std::size_t run_offset = 0;
    for (request& r : batch) {
        if (!result) {
            r.done(result.error());
            continue;
        }
        scheduler::batch_outcomes mine;
        auto first = result->transitions.begin() + static_cast<std::ptrdiff_t>(offset);
        mine.transitions.assign(first, first + static_cast<std::ptrdiff_t>(r.transitions.size()));
        offset += r.transitions.size();
        auto first_run = result->runs.begin() + static_cast<std::ptrdiff_t>(run_offset);
        mine.runs.assign(
            std::make_move_iterator(first_run),
            std::make_move_iterator(first_run + static_cast<std::ptrdiff_t>(r.creations.size())));
        run_offset += r.creations.size();
        r.done(std::move(mine));
    }
}

void store_writer::commit_alone(request& r) {
    auto result = timed_apply(r.creations, r.transitions);
    if (result && (result->transitions.size() != r.transitions.size() ||
                   result->runs.size() != r.creations.size())) {
        result = core::error::permanent(
            "store writer: the store returned " + std::to_string(result->transitions.size()) +
            " outcomes for " + std::to_string(r.transitions.size()) + " transitions");
    }
    r.done(std::move(result));
}

core::result<scheduler::batch_outcomes> store_writer::timed_apply(
    std::span<const scheduler::run_creation> creations,
    std::span<const scheduler::transition> batch) {
    const auto start = std::chrono::steady_clock::now();
    core::result<scheduler::batch_outcomes> result = scheduler::batch_outcomes{};
    if (creations.empty()) {
        // Transitions only: the plain apply (what most commits are).
        auto applied = store_.apply(batch);
        if (applied) {
            result = scheduler::batch_outcomes{{}, std::move(*applied)};
        } else {
            result = applied.error();
        }
    } else {
        result = store_.write_batch(creations, batch);
    }
    if (commit_observer_) {
        commit_observer_(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return result;
}

}  // namespace sluice::store
