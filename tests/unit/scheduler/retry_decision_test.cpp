#include "scheduler/retry_decision.hpp"

#include <catch2/catch.hpp>

using namespace sluice;
using namespace std::chrono_literals;
using scheduler::attempt_end;
using scheduler::task_state;

namespace {

config::retry_policy policy(core::duration delay, double backoff, core::duration max_delay,
                            double jitter = 0.0, int max_attempts = 3) {
    config::retry_policy p;
    p.max_attempts = max_attempts;
    p.delay = delay;
    p.backoff = backoff;
    p.max_delay = max_delay;
    p.jitter = jitter;
    return p;
}

}  // namespace

TEST_CASE("retry delay grows by the backoff factor", "[retry]") {
    auto p = policy(5s, 2.0, 10min);
    CHECK(scheduler::retry_delay(p, 1, 0.5) == 5s);
    CHECK(scheduler::retry_delay(p, 2, 0.5) == 10s);
    CHECK(scheduler::retry_delay(p, 3, 0.5) == 20s);
    CHECK(scheduler::retry_delay(p, 4, 0.5) == 40s);
}

TEST_CASE("retry delay is capped by max_delay", "[retry]") {
    auto p = policy(5s, 2.0, 30s);
    CHECK(scheduler::retry_delay(p, 3, 0.5) == 20s);
    CHECK(scheduler::retry_delay(p, 4, 0.5) == 30s);
    CHECK(scheduler::retry_delay(p, 500, 0.5) == 30s);  // pow overflows to inf: still the cap
}

TEST_CASE("retry delay with backoff 1 is constant", "[retry]") {
    auto p = policy(1500ms, 1.0, 1min);
    CHECK(scheduler::retry_delay(p, 1, 0.5) == 1500ms);
    CHECK(scheduler::retry_delay(p, 7, 0.5) == 1500ms);
}

TEST_CASE("retry jitter stays within its fraction and below the cap", "[retry]") {
    auto p = policy(10s, 2.0, 1min, 0.2);
    CHECK(scheduler::retry_delay(p, 1, 0.0) == 8s);
    CHECK(scheduler::retry_delay(p, 1, 1.0) == 12s);
    std::mt19937_64 rng(42);
    core::duration lo = 1h;
    core::duration hi = 0s;
    for (int i = 0; i < 2000; ++i) {
        core::duration d = scheduler::retry_delay(p, 2, rng);
        CHECK(d >= 16s);
        CHECK(d <= 24s);
        lo = std::min(lo, d);
        hi = std::max(hi, d);
        // At the cap jitter can only shorten the wait.
        core::duration capped = scheduler::retry_delay(p, 10, rng);
        CHECK(capped <= 1min);
        CHECK(capped >= 48s);
    }
    CHECK(hi - lo > 6s);  // the draws actually spread over the range
}

TEST_CASE("retry jitter is reproducible with a seeded generator", "[retry]") {
    auto p = policy(10s, 2.0, 1min, 0.5);
    std::mt19937_64 a(7);
    std::mt19937_64 b(7);
    for (int i = 1; i < 6; ++i) {
        CHECK(scheduler::retry_delay(p, i, a) == scheduler::retry_delay(p, i, b));
    }
}

TEST_CASE("only transient failures are retried while tries are left", "[retry]") {
    auto p = policy(5s, 2.0, 1min);
    auto d = scheduler::decide_after_attempt(p, false, 1, 3, attempt_end::failed_transient, 0.5);
    CHECK(d.next == task_state::up_for_retry);
    CHECK(d.retry_after == 5s);
    d = scheduler::decide_after_attempt(p, false, 2, 3, attempt_end::failed_transient, 0.5);
    CHECK(d.retry_after == 10s);
    d = scheduler::decide_after_attempt(p, false, 3, 3, attempt_end::failed_transient, 0.5);
    CHECK(d.next == task_state::failed);
    CHECK_FALSE(d.retry_after);
    d = scheduler::decide_after_attempt(p, false, 1, 3, attempt_end::failed_permanent, 0.5);
    CHECK(d.next == task_state::failed);
    d = scheduler::decide_after_attempt(p, false, 1, 3, attempt_end::success, 0.5);
    CHECK(d.next == task_state::success);
    d = scheduler::decide_after_attempt(p, false, 1, 3, attempt_end::canceled, 0.5);
    CHECK(d.next == task_state::canceled);
}

TEST_CASE("timeouts are retried only with retry_on_timeout", "[retry]") {
    auto p = policy(5s, 2.0, 1min);
    CHECK(scheduler::decide_after_attempt(p, false, 1, 3, attempt_end::timed_out, 0.5).next ==
          task_state::failed);
    auto d = scheduler::decide_after_attempt(p, true, 1, 3, attempt_end::timed_out, 0.5);
    CHECK(d.next == task_state::up_for_retry);
    CHECK(d.retry_after == 5s);
    CHECK(scheduler::decide_after_attempt(p, true, 3, 3, attempt_end::timed_out, 0.5).next ==
          task_state::failed);
}

TEST_CASE("interrupted attempts retry at once and do not use up a try", "[retry]") {
    auto p = policy(5s, 2.0, 1min);
    // A task without retries (max_tries 1) whose only try was interrupted runs again.
    auto d = scheduler::decide_after_attempt(p, false, 1, 1, attempt_end::interrupted, 0.5);
    CHECK(d.next == task_state::up_for_retry);
    CHECK(d.retry_after == 0s);
    CHECK(d.interrupted);
    CHECK(d.why.empty());
    // Try 2 after one interruption is the task's first counted try: a transient failure still
    // has its one retry left with max_tries 2, and none with max_tries 1.
    const scheduler::interruption_standing once{1, 20, config::interrupt_action::retry};
    d = scheduler::decide_after_attempt(p, false, 2, 2, attempt_end::failed_transient, 0.5, once);
    CHECK(d.next == task_state::up_for_retry);
    CHECK(d.retry_after == 5s);
    CHECK_FALSE(d.interrupted);
    CHECK(scheduler::decide_after_attempt(p, false, 2, 1, attempt_end::failed_transient, 0.5, once)
              .next == task_state::failed);
}

TEST_CASE("attempts stopped by a graceful shutdown are retried even without tries left",
          "[retry]") {
    auto p = policy(5s, 2.0, 1min);
    auto d = scheduler::decide_after_attempt(p, false, 2, 2, attempt_end::shutdown, 0.5);
    CHECK(d.next == task_state::up_for_retry);
    CHECK(d.retry_after == 0s);
    CHECK(d.interrupted);
}

TEST_CASE("max_interruptions bounds interruptions; on_interrupt: fail fails at the first",
          "[retry]") {
    auto p = policy(5s, 2.0, 1min);
    for (const attempt_end end : {attempt_end::interrupted, attempt_end::shutdown}) {
        // The third interruption of a task that takes two fails it, and says why.
        const scheduler::interruption_standing two_so_far{2, 2, config::interrupt_action::retry};
        auto d = scheduler::decide_after_attempt(p, false, 3, 1, end, 0.5, two_so_far);
        CHECK(d.next == task_state::failed);
        CHECK(d.interrupted);
        CHECK_THAT(d.why, Catch::Contains("interrupted 3 times") &&
                              Catch::Contains("max_interruptions (2)"));
        const scheduler::interruption_standing one_so_far{1, 2, config::interrupt_action::retry};
        CHECK(scheduler::decide_after_attempt(p, false, 2, 1, end, 0.5, one_so_far).next ==
              task_state::up_for_retry);
        // max_interruptions 0: the first interruption fails the task.
        const scheduler::interruption_standing none{0, 0, config::interrupt_action::retry};
        CHECK(scheduler::decide_after_attempt(p, false, 1, 3, end, 0.5, none).next ==
              task_state::failed);
        // on_interrupt: fail, with tries and interruptions to spare.
        const scheduler::interruption_standing never{0, 20, config::interrupt_action::fail};
        d = scheduler::decide_after_attempt(p, false, 1, 3, end, 0.5, never);
        CHECK(d.next == task_state::failed);
        CHECK_THAT(d.why, Catch::Contains("on_interrupt: fail"));
    }
}
