#pragma once

// Retry decisions (docs/configuration.md#retries): the wait before the next try and the state
// an attempt leaves its task instance in. Pure: randomness comes in as a number the caller draws.

#include <optional>
#include <random>
#include <string>

#include "config/spec.hpp"
#include "core/duration.hpp"
#include "scheduler/attempt_end.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::scheduler {

// The wait before the try after `failed_try` (1 = the first try failed):
// delay * backoff^(failed_try - 1), capped at max_delay, then randomized by up to +-jitter of
// itself with `unit_random` in [0, 1) (0.5 = no change), and clamped to [0, max_delay]: the wait
// never exceeds max_delay.
core::duration retry_delay(const config::retry_policy& policy, int failed_try, double unit_random);

// The same with a draw from `rng` (seeded in tests).
core::duration retry_delay(const config::retry_policy& policy, int failed_try,
                           std::mt19937_64& rng);

struct attempt_decision {
    task_state next = task_state::success;
    std::optional<core::duration> retry_after;  // set with up_for_retry
    // The attempt was interrupted: the task's interruption count goes up by one.
    bool interrupted = false;
    // Why an interrupted attempt failed its task (empty otherwise).
    std::string why = {};
};

// How a task takes interruptions (docs/configuration.md#interruptions): the ones before the
// attempt that ended, and the task's settings.
struct interruption_standing {
    int interruptions = 0;
    int max_interruptions = 20;
    config::interrupt_action on_interrupt = config::interrupt_action::retry;
};

// The next state of a task instance after try `try_number` of `max_tries` ended. Interrupted
// tries do not count: tries are left while try_number - interruptions < max_tries.
//   success -> success; canceled -> canceled;
//   transient failure -> up_for_retry after retry_delay while tries are left, else failed;
//   permanent failure -> failed at once;
//   timeout -> like a transient failure when retry_on_timeout, else failed;
//   interrupted (the process died while it ran) and shutdown (killed after the shutdown grace)
//   -> up_for_retry at once (no backoff: the task did not fail), whether or not tries are left,
//   up to max_interruptions of them; the one after fails the task, as does any with
//   on_interrupt: fail.
attempt_decision decide_after_attempt(const config::retry_policy& policy, bool retry_on_timeout,
                                      int try_number, int max_tries, attempt_end end,
                                      double unit_random,
                                      const interruption_standing& interruptions = {});

}  // namespace sluice::scheduler
