// Reading a task's log a window at a time and searching it in the store: the admin page shows a
// 10 MiB log without ever holding it (docs/api.md#logs-and-events-server-sent-events).

#include <algorithm>

#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The most lines one window or one search returns, whatever the caller asks for.
constexpr std::size_t max_window_lines = 10000;

std::int64_t clamp_window(std::size_t limit) {
    return static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, max_window_lines));
}

stored_log_line read_line(row_reader& rr) {
    stored_log_line l;
    l.seq = rr.integer();
    l.try_number = static_cast<int>(rr.integer());
    l.line.at = rr.time();
    l.line.stream = rr.text();
    l.line.text = rr.text();
    return l;
}

// A LIKE pattern matching `needle` anywhere, its wildcards taken literally.
std::string contains_pattern(std::string_view needle) {
    std::string p = "%";
    for (const char c : needle) {
        if (c == '%' || c == '_' || c == '\\') {
            p += '\\';
        }
        p += c;
    }
    p += '%';
    return p;
}

}  // namespace

core::result<task_log_window> sql_run_store::read_task_log_window(core::task_instance_id task,
                                                                  std::int64_t first,
                                                                  std::size_t limit) {
    return transact<task_log_window>(tx_mode::read, [&](sql_tx& tx) {
        task_log_window out;
        auto count =
            tx.exec("SELECT count(*) FROM task_logs WHERE task_instance_id = $1", {task.value});
        row_reader cr(count.rows.at(0));
        out.total = cr.integer();
        out.first = std::max<std::int64_t>(first, 1);
        if (out.first > out.total) {
            return out;
        }
        // The window starts at the seq of line `first`, found in the (task, seq) index alone;
        // the lines themselves are then a range scan of that index.
        auto r = tx.exec(
            "SELECT seq, try_number, logged_at, stream, line FROM task_logs "
            "WHERE task_instance_id = $1 AND seq >= (SELECT seq FROM task_logs "
            "WHERE task_instance_id = $1 ORDER BY seq LIMIT 1 OFFSET $2) "
            "ORDER BY seq LIMIT $3",
            {task.value, out.first - 1, clamp_window(limit)});
        out.lines.reserve(r.rows.size());
        for (const sql_row& row : r.rows) {
            row_reader rr(row);
            out.lines.push_back(read_line(rr));
        }
        return out;
    });
}

core::result<std::vector<task_log_hit>> sql_run_store::search_task_log(core::task_instance_id task,
                                                                       std::string_view needle,
                                                                       std::size_t limit) {
    return transact<std::vector<task_log_hit>>(tx_mode::read, [&](sql_tx& tx) {
        // lower() on both sides: each engine folds the line and the needle the same way.
        auto r = tx.exec(
            "SELECT n, seq, try_number, logged_at, stream, line FROM ("
            "SELECT row_number() OVER (ORDER BY seq) AS n, seq, try_number, logged_at, stream, "
            "line FROM task_logs WHERE task_instance_id = $1) numbered "
            "WHERE lower(line) LIKE lower($2) ESCAPE '\\' ORDER BY n LIMIT $3",
            {task.value, contains_pattern(needle), clamp_window(limit)});
        std::vector<task_log_hit> out;
        out.reserve(r.rows.size());
        for (const sql_row& row : r.rows) {
            row_reader rr(row);
            task_log_hit h;
            h.number = rr.integer();
            h.line = read_line(rr);
            out.push_back(std::move(h));
        }
        return out;
    });
}

}  // namespace sluice::store
