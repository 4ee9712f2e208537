#include "scheduler/retry_decision.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::scheduler {

core::duration retry_delay(const config::retry_policy& policy, int failed_try, double unit_random) {
    const double cap =
        static_cast<double>(std::max<core::duration::rep>(0, policy.max_delay.count()));
    const double base = static_cast<double>(std::max<core::duration::rep>(0, policy.delay.count()));
    const int exponent = std::max(0, failed_try - 1);
    // pow can overflow to inf for large exponents; min() with the cap keeps it finite.
    double ms = std::min(cap, base * std::pow(std::max(policy.backoff, 0.0), exponent));
    const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
    const double u = std::clamp(unit_random, 0.0, 1.0);
    ms *= 1.0 + jitter * (2.0 * u - 1.0);
    ms = std::clamp(ms, 0.0, cap);
    return core::duration(static_cast<core::duration::rep>(std::llround(ms)));
}

core::duration retry_delay(const config::retry_policy& policy, int failed_try,
                           std::mt19937_64& rng) {
    return retry_delay(policy, failed_try, std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

attempt_decision decide_after_attempt(const config::retry_policy& policy, bool retry_on_timeout,
                                      int try_number, int max_tries, attempt_end end,
                                      double unit_random,
                                      const interruption_standing& interruptions) {
    const bool tries_left = try_number - interruptions.interruptions < max_tries;
    switch (end) {
        case attempt_end::success:
            return {task_state::success, std::nullopt};
        case attempt_end::canceled:
            return {task_state::canceled, std::nullopt};
        case attempt_end::failed_permanent:
            return {task_state::failed, std::nullopt};
        case attempt_end::shutdown:
        case attempt_end::interrupted: {
            attempt_decision d{task_state::up_for_retry, core::duration{0}, true, ""};
            const int count = interruptions.interruptions + 1;
            if (interruptions.on_interrupt == config::interrupt_action::fail) {
                d = {task_state::failed, std::nullopt, true,
                     "not tried again: the task has on_interrupt: fail"};
            } else if (count > interruptions.max_interruptions) {
                d = {task_state::failed, std::nullopt, true,
                     "not tried again: interrupted " + std::to_string(count) +
                         " times, more than max_interruptions (" +
                         std::to_string(interruptions.max_interruptions) + ")"};
            }
            return d;
        }
        case attempt_end::timed_out:
            if (!retry_on_timeout) {
                return {task_state::failed, std::nullopt};
            }
            [[fallthrough]];
        case attempt_end::failed_transient:
            if (tries_left) {
                // The backoff counts tries, not interruptions.
                return {task_state::up_for_retry,
                        retry_delay(policy, try_number - interruptions.interruptions, unit_random)};
            }
            return {task_state::failed, std::nullopt};
    }
    return {task_state::failed, std::nullopt};
}

}  // namespace sluice::scheduler
