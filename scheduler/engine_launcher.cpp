// The engine's job_launcher (job_launcher.hpp): trigger_job attempts start and follow child runs
// through it. Each call posts the work onto the control loop and blocks the calling task pool
// thread on a shared slot until the loop answers, polling the caller's stop predicate so a
// canceled, timed-out or shut-down attempt never hangs on a loop that no longer answers.

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "scheduler/engine_impl.hpp"
#include "scheduler/job_launcher.hpp"

namespace sluice::scheduler {

namespace {

// How often a blocked call looks at its stop predicate.
constexpr std::chrono::milliseconds stop_poll_interval{25};
// How long cancel() waits for the loop: it is called by an attempt that is stopping, possibly
// while the daemon shuts down, and must not hold up the shutdown grace.
constexpr std::chrono::seconds cancel_answer_bound{10};

// One answer from the loop, handed to the waiting thread.
template <class T>
struct answer_slot {
    std::mutex mutex;
    std::condition_variable ready;
    std::optional<T> value;

    void set(T v) {
        {
            std::lock_guard lock(mutex);
            value = std::move(v);
        }
        ready.notify_all();
    }

    // The answer, or nullopt once `stop` returned true first.
    std::optional<T> take(const stop_predicate& stop) {
        std::unique_lock lock(mutex);
        while (!value) {
            if (stop && stop()) {
                return std::nullopt;
            }
            ready.wait_for(lock, stop_poll_interval);
        }
        return std::move(value);
    }
};

core::error from_trigger_error(const trigger_error& e) {
    switch (e.code) {
        case trigger_errc::unknown_job:
        case trigger_errc::paused:
        case trigger_errc::bad_params:
            return core::error::permanent(e.message);
        case trigger_errc::shutting_down:
        case trigger_errc::store_failure:
            return core::error::transient(e.message);
    }
    return core::error::permanent(e.message);
}

std::optional<launched_run_end> end_of(run_state s) {
    switch (s) {
        case run_state::success:
            return launched_run_end::success;
        case run_state::failed:
            return launched_run_end::failed;
        case run_state::canceled:
            return launched_run_end::canceled;
        case run_state::timed_out:
            return launched_run_end::timed_out;
        case run_state::queued:
        case run_state::running:
            return std::nullopt;
    }
    return std::nullopt;
}

class engine_launcher final : public job_launcher {
public:
    explicit engine_launcher(engine::impl& engine) : engine_(engine) {}

    core::result<launched_run> trigger(const launch_request& request,
                                       const stop_predicate& stop) override {
        auto slot = std::make_shared<answer_slot<trigger_result>>();
        trigger_request tr;
        tr.job = request.job;
        tr.params = request.params;
        tr.idempotency_key = request.idempotency_key;
        tr.actor = request.actor;
        tr.logical_time = request.logical_time;
        tr.data_interval_start = request.data_interval_start;
        tr.data_interval_end = request.data_interval_end;
        engine_.on_loop([e = &engine_, tr = std::move(tr), slot]() mutable {
            e->trigger(std::move(tr), [slot](trigger_result r) { slot->set(std::move(r)); });
        });
        auto r = slot->take(stop);
        if (!r) {
            return core::error::transient("the attempt was stopped before job " + request.job +
                                          " could be triggered");
        }
        if (!*r) {
            return from_trigger_error(r->error());
        }
        return launched_run{(*r)->run, (*r)->created};
    }

    core::result<std::optional<launched_run_end>> wait(core::run_id run,
                                                       const stop_predicate& stop) override {
        auto slot = std::make_shared<answer_slot<core::result<run_record>>>();
        engine_.on_loop([e = &engine_, run, slot] {
            e->wait_run(run, [slot](core::result<run_record> r) { slot->set(std::move(r)); });
        });
        auto r = slot->take(stop);
        if (!r) {
            return std::optional<launched_run_end>();
        }
        if (!*r) {
            return r->error();
        }
        if (auto end = end_of((*r)->state)) {
            return std::optional<launched_run_end>(*end);
        }
        // wait_run answers a run that is not active here with its stored record: a run stalled
        // by a store failure, or active on another instance. Waiting more is for the retry.
        return core::error::transient("run " + run.to_string() + " of job " + (*r)->job + " is " +
                                      std::string(to_string((*r)->state)) +
                                      " but not active on this scheduler");
    }

    core::result<bool> cancel(core::run_id run, const std::string& actor) override {
        auto slot = std::make_shared<answer_slot<core::result<bool>>>();
        engine_.on_loop([e = &engine_, run, actor, slot] {
            e->cancel(run, actor, [slot](core::result<bool> r) { slot->set(std::move(r)); });
        });
        const auto give_up = std::chrono::steady_clock::now() + cancel_answer_bound;
        auto r = slot->take([give_up] { return std::chrono::steady_clock::now() >= give_up; });
        if (!r) {
            return core::error::transient("the scheduler did not answer the cancel of run " +
                                          run.to_string());
        }
        return std::move(*r);
    }

    core::result<void> rerun_failed(core::run_id run, const std::string& actor,
                                    const stop_predicate& stop) override {
        auto slot = std::make_shared<answer_slot<core::result<run_op_status>>>();
        engine_.on_loop([e = &engine_, run, actor, slot] {
            e->retry_run(run, actor,
                         [slot](core::result<run_op_status> r) { slot->set(std::move(r)); });
        });
        auto r = slot->take(stop);
        if (!r) {
            return core::error::transient("the attempt was stopped before run " + run.to_string() +
                                          " could be retried");
        }
        if (!*r) {
            return r->error();
        }
        if ((*r)->code != run_op_status::code_t::ok) {
            return core::error::permanent((*r)->message);
        }
        return {};
    }

private:
    engine::impl& engine_;
};

}  // namespace

std::unique_ptr<job_launcher> make_engine_launcher(engine::impl& engine) {
    return std::make_unique<engine_launcher>(engine);
}

}  // namespace sluice::scheduler
