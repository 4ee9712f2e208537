#pragma once

// What one notification says (docs/operations.md#notifications) and its two renderings: the JSON
// body of a webhook POST (Slack incoming-webhook compatible: a `text` summary and `blocks`, plus
// structured fields Slack ignores) and a plain-text mail for `sendmail -t -i`. Pure functions: the
// store reads that fill a notification live in run_summary.hpp, delivery in delivery.hpp.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"
#include "core/clock.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::daemon::notify {

// Lines of a task's newest try shown in a notification.
inline constexpr std::size_t log_tail_lines = 20;
// A longer log line is cut (on a UTF-8 boundary) and marked with "...".
inline constexpr std::size_t max_log_line_bytes = 1000;
// Tasks listed in one notification; more are counted, not shown.
inline constexpr std::size_t max_listed_tasks = 20;

struct task_summary {
    std::string task;
    scheduler::task_state state = scheduler::task_state::failed;
    int try_number = 0;
    int max_tries = 1;
    std::optional<core::error_class> error_cls;
    std::optional<std::string> error_message;
    std::optional<core::time_point> started_at;
    std::optional<core::time_point> finished_at;
    std::optional<core::time_point> next_attempt_at;
    std::vector<std::string> log_tail;  // the newest try's last lines, oldest first
};

struct notification {
    config::notify_event event = config::notify_event::failure;
    scheduler::run_record run;  // `state` as the store had it when the notification was built
    // failure: the failed tasks; retry: the task that will be retried; sla_miss: the tasks not
    // finished yet; success: none.
    std::vector<task_summary> tasks;
    std::size_t tasks_not_listed = 0;   // beyond max_listed_tasks
    std::optional<core::duration> sla;  // sla_miss
    std::optional<core::time_point> sla_deadline;
    std::string run_url;                 // "" when no link base is known
    std::string page_url;                // the run on the admin page; "" without one
    std::optional<std::string> problem;  // the store could not be read: details are missing
    core::time_point raised_at;
};

// One line for a human: "job nightly run 42 failed: task load failed on try 3/3: exit 1".
std::string summary(const notification& n);

// The webhook body (JSON text, invalid UTF-8 in log lines replaced).
std::string webhook_body(const notification& n);

// A complete RFC 5322 message for `sendmail -t -i`: headers (From, To, Subject, Date, ...), an
// empty line, the body. `to` and `from` are validated plain addresses (config/).
std::string mail_message(const notification& n, std::string_view from, std::string_view to);

// Cuts `line` to max_log_line_bytes without splitting a UTF-8 sequence.
std::string clip_log_line(std::string_view line);

}  // namespace sluice::daemon::notify
