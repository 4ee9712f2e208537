#pragma once

// The store reads behind a notification: the run, the tasks it names and their log tails.
// Blocking: called on the notifier's pool, never on the control loop.

#include <optional>
#include <string>

#include "daemon/notify/notification.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::daemon::notify {

// Pages of a task log read while looking for its tail; a longer log is not shown.
inline constexpr std::size_t log_page_lines = 2000;
inline constexpr std::size_t max_log_pages = 50;

// What the notifier knew when it raised the notification (from the engine's event).
struct raised {
    config::notify_event event = config::notify_event::failure;
    scheduler::run_record run;         // id, job and state at least; the rest when known
    std::optional<std::string> task;   // retry: the task
    int try_number = 0;                // retry: the try that failed
    std::optional<std::string> error;  // retry: its error
    std::optional<core::duration> sla;
    std::optional<core::time_point> sla_deadline;
    std::string run_url;
    std::string page_url;
    core::time_point at;
};

// Fills the notification from the store. A failed read does not stop it: what is missing is
// named in `problem` and the notification goes out with what the event said.
notification read_notification(scheduler::run_store& store, const raised& r);

// The last log_tail_lines lines of try `try_number` of a task instance, oldest first.
core::result<std::vector<std::string>> read_log_tail(scheduler::run_store& store,
                                                     core::task_instance_id task, int try_number);

}  // namespace sluice::daemon::notify
