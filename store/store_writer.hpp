#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::store {

// Group commit (docs/architecture.md#group-commit): many callers submit transitions; one writer
// thread commits whatever arrived while the previous commit was in flight as the next single
// apply() batch, so durable throughput is not one commit per transition.
//
// Thread-safety: submit() may be called from any thread. Completions run on the writer thread,
// in submission order within a batch; they must be quick, must not throw, and must not call
// submit() and then wait for it (post the result to the control loop instead).
class store_writer {
public:
    // The most transitions one commit carries: bounds transaction size and lock hold time, and
    // how long a completion can be delayed behind others. A single submission larger than this
    // commits alone, still atomically.
    static constexpr std::size_t max_batch_transitions = 512;

    using outcomes = std::vector<scheduler::transition_outcome>;
    using completion = std::function<void(core::result<outcomes>)>;
    using created_runs = std::vector<scheduler::created_run>;
    using creation_completion = std::function<void(core::result<created_runs>)>;

    // `store` must outlive the writer.
    explicit store_writer(scheduler::run_store& store);
    // Stops intake, commits everything already submitted, then joins the writer thread.
    ~store_writer();

    store_writer(const store_writer&) = delete;
    store_writer& operator=(const store_writer&) = delete;

    // The transitions of one submission commit together (same transaction) and complete once with
    // one outcome each. After shutdown began, completes at once with a permanent error.
    void submit(std::vector<scheduler::transition> transitions, completion done);
    std::future<core::result<outcomes>> submit(std::vector<scheduler::transition> transitions);
    std::future<core::result<scheduler::transition_outcome>> submit(scheduler::transition t);
    // Runs to create (run_store::write_batch): they commit together with whatever else is in
    // the same commit, and complete once with one outcome each (the new run and its tasks, or
    // the run already holding the key). A creation counts 1 + its tasks towards the batch
    // bound.
    void submit_runs(std::vector<scheduler::run_creation> creations, creation_completion done);
    std::future<core::result<created_runs>> submit_runs(
        std::vector<scheduler::run_creation> creations);

    // Called on the writer thread with the duration of every commit (apply call) in seconds,
    // for the sluice_store_commit_seconds histogram. Set before the first submit.
    void set_commit_observer(std::function<void(double)> observer) {
        commit_observer_ = std::move(observer);
    }

private:
    struct request {
        std::vector<scheduler::run_creation> creations;
        std::vector<scheduler::transition> transitions;
        std::function<void(core::result<scheduler::batch_outcomes>)> done;
        std::size_t size() const;  // what it counts towards max_batch_transitions
    };

    void enqueue(request r);
    void run();
    // Commits a batch; when it fails permanently and holds several submissions, each is retried
    // on its own so one bad submission cannot fail the others.
    void commit(std::vector<request>& batch);
    void commit_alone(request& r);
    core::result<scheduler::batch_outcomes> timed_apply(
        std::span<const scheduler::run_creation> creations,
        std::span<const scheduler::transition> batch);

    scheduler::run_store& store_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<request> pending_;  // guarded by mutex_
    bool stopping_ = false;        // guarded by mutex_
    std::function<void(double)> commit_observer_;
    std::thread thread_;  // last: starts after the members above exist
};

}  // namespace sluice::store
