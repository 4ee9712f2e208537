// A job's runs × tasks grid (run_store::job_grid): what the admin page's grid view shows in one
// request, instead of a run list and one detail call per run.

#include <algorithm>
#include <string>

#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The most runs one grid page holds, whatever the caller asks for.
constexpr std::size_t max_grid_runs = 1000;

}  // namespace

core::result<grid_page> sql_run_store::job_grid(std::string_view job, std::size_t limit,
                                                std::optional<core::run_id> before) {
    return transact<grid_page>(tx_mode::read, [&](sql_tx& tx) {
        const std::size_t n = std::clamp<std::size_t>(limit, 1, max_grid_runs);
        // The page through the (job, id) index, newest first; one row more than asked tells
        // whether another page follows.
        std::string sql =
            "SELECT " + std::string(detail::run_select_columns()) + " FROM runs WHERE job = $1";
        std::vector<sql_value> params{text(job)};
        if (before) {
            sql += " AND id < $2";
            params.emplace_back(std::in_place_type<std::int64_t>, before->value);
        }
        sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size() + 1);
        params.emplace_back(std::in_place_type<std::int64_t>, static_cast<std::int64_t>(n + 1));
        grid_page page;
        for (const sql_row& row : tx.exec(sql, params).rows) {
            page.runs.push_back(detail::read_run_row(row));
        }
        if (page.runs.size() > n) {
            page.runs.resize(n);
            page.next_cursor = page.runs.back().id;
        }
        if (page.runs.empty()) {
            return page;
        }
        // Their task instances through the (run_id, task) unique index. The ids are integers
        // the store just returned, so the list is written into the statement.
        std::string ids;
        for (const run_record& r : page.runs) {
            ids += (ids.empty() ? "" : ",") + std::to_string(r.id.value);
        }
        const sql_result tasks =
            tx.exec("SELECT run_id, task, state, try_number FROM task_instances WHERE run_id IN (" +
                    ids + ") ORDER BY run_id DESC, id");
        page.tasks.reserve(tasks.rows.size());
        for (const sql_row& row : tasks.rows) {
            row_reader r(row);
            grid_task t;
            t.run = core::run_id{r.integer()};
            t.task = r.text();
            const std::string state = r.text();
            const auto parsed = parse_task_state(state);
            if (!parsed) {
                throw store_failure(core::error::permanent(
                    "store: unexpected stored value: task state '" + state + "'"));
            }
            t.state = *parsed;
            t.try_number = static_cast<int>(r.integer());
            page.tasks.push_back(std::move(t));
        }
        return page;
    });
}

}  // namespace sluice::store
