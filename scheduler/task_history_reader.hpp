#pragma once

// Reading what one task of a job did across its runs, with one of its checkpoints, for the
// admin page's copies view (docs/api.md#copies). A capability of the SQL stores beside
// run_store, like task_log_reader: the API asks its store for it and answers 501 without it.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/run_store.hpp"

namespace sluice::scheduler {

// A task of a job, by name.
struct task_ref {
    std::string job;
    std::string task;
};

// One task's recent instances and checkpoint.
struct task_history {
    // Its newest instances that started (try_number > 0), newest run first.
    std::vector<task_instance_record> recent;
    // The checkpoint asked for (JSON), and when it was written; nullopt when there is none.
    std::optional<std::string> checkpoint_json;
    std::optional<core::time_point> checkpoint_updated_at;
};

class task_history_reader {
public:
    virtual ~task_history_reader() = default;

    // For each of `tasks`, in order, in one read: its newest `limit` started instances (through
    // the runs of its job, newest first, whatever the history's length) and its checkpoint
    // `checkpoint_key`.
    virtual core::result<std::vector<task_history>> read_task_histories(
        std::span<const task_ref> tasks, std::string_view checkpoint_key, std::size_t limit) = 0;
};

}  // namespace sluice::scheduler
