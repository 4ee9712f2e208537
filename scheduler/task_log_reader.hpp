#pragma once

// Reading a task's log a window at a time and searching it where it is stored, for the admin
// page's log view (docs/api.md#logs-and-events-server-sent-events). A capability of the SQL
// stores beside run_store: the API asks its store for it and answers 501 without it.

#include <cstdint>
#include <string_view>
#include <vector>

#include "scheduler/run_store.hpp"

namespace sluice::scheduler {

// A window of one task instance's log, lines numbered 1.. in append order (all tries).
struct task_log_window {
    std::int64_t total = 0;  // lines the task instance has
    std::int64_t first = 0;  // number of lines[0] (1-based); lines are consecutive from it
    std::vector<stored_log_line> lines;
};

// A log line containing a searched text, with its number as in task_log_window.
struct task_log_hit {
    std::int64_t number = 0;
    stored_log_line line;
};

class task_log_reader {
public:
    virtual ~task_log_reader() = default;

    // At most `limit` lines of one task instance from line number `first` (1-based), and how
    // many it has.
    virtual core::result<task_log_window> read_task_log_window(core::task_instance_id task,
                                                               std::int64_t first,
                                                               std::size_t limit) = 0;
    // The first `limit` lines of one task instance containing `needle` as a plain substring,
    // ignoring case, in order: a search over the whole log without sending it (never a pattern).
    virtual core::result<std::vector<task_log_hit>> search_task_log(core::task_instance_id task,
                                                                    std::string_view needle,
                                                                    std::size_t limit) = 0;
};

}  // namespace sluice::scheduler
