// What one task did across its runs, with a checkpoint (task_history_reader): the admin page's
// copies view reads every copy task's latest figures and stored mark in one request.

#include <algorithm>
#include <string>

#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The most instances of one task one read returns, whatever the caller asks for.
constexpr std::size_t max_history = 100;

}  // namespace

core::result<std::vector<task_history>> sql_run_store::read_task_histories(
    std::span<const task_ref> tasks, std::string_view checkpoint_key, std::size_t limit) {
    return transact<std::vector<task_history>>(tx_mode::read, [&](sql_tx& tx) {
        const auto n = static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, max_history));
        // The job's runs newest first through the (job, id) index, each run's instance of the
        // task through the (run_id, task) unique index: a few rows read per task however long
        // the history, as long as the task started in its job's recent runs. task_instances has
        // no index by task, so it is never searched on its own.
        static const std::string recent =
            "SELECT " + std::string(detail::task_select_columns()) +
            " FROM task_instances WHERE id IN (SELECT t.id FROM runs r JOIN task_instances t "
            "ON t.run_id = r.id AND t.task = $2 WHERE r.job = $1 AND t.try_number > 0 "
            "ORDER BY r.id DESC LIMIT $3) ORDER BY run_id DESC";
        std::vector<task_history> out;
        out.reserve(tasks.size());
        for (const task_ref& ref : tasks) {
            task_history& h = out.emplace_back();
            for (const sql_row& row : tx.exec(recent, {text(ref.job), text(ref.task), n}).rows) {
                h.recent.push_back(detail::read_task_row(row));
            }
            auto mark = tx.exec(
                "SELECT value, updated_at FROM checkpoints WHERE job = $1 AND task = $2 AND "
                "key = $3",
                {text(ref.job), text(ref.task), text(checkpoint_key)});
            if (!mark.rows.empty()) {
                row_reader r(mark.rows.front());
                h.checkpoint_json = r.text();
                h.checkpoint_updated_at = r.time();
            }
        }
        return out;
    });
}

}  // namespace sluice::store
