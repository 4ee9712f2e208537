// The sql_run_store tables beside runs and task instances: task logs, events, variables,
// checkpoints and HA instances.

#include <algorithm>
#include <limits>

#include "store/migrations.hpp"
#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"
#include "store/sql_transitions.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The most rows one read of logs or events returns, whatever the caller asks for.
constexpr std::size_t max_read_rows = 10000;

std::int64_t clamp_limit(std::size_t limit) {
    return static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, max_read_rows));
}

event_record read_event(const sql_row& row) {
    row_reader r(row);
    event_record e;
    e.id = r.integer();
    e.at = r.time();
    e.kind = r.text();
    e.job = r.opt_text();
    if (auto run = r.opt_int()) {
        e.run = core::run_id{*run};
    }
    e.task = r.opt_text();
    e.payload_json = r.text();
    e.actor = r.text();
    return e;
}

variable_record read_variable(const sql_row& row) {
    row_reader r(row);
    variable_record v;
    v.key = r.text();
    v.value = r.text();
    v.secret = r.boolean();
    v.updated_at = r.time();
    return v;
}

instance_record read_instance(const sql_row& row) {
    row_reader r(row);
    instance_record i;
    i.id = r.text();
    i.info_json = r.text();
    i.started_at = r.time();
    i.heartbeat_at = r.time();
    return i;
}

}  // namespace

std::int64_t detail::insert_event(sql_tx& tx, const new_event& e) {
    sql_value run = opt_int(e.run ? std::optional(e.run->value) : std::nullopt);
    auto r = tx.exec(
        "INSERT INTO events (created_at, kind, job, run_id, task, payload, actor) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        {to_micros(e.at), e.kind, opt_text(e.job), run, opt_text(e.task), e.payload_json, e.actor});
    return row_reader(r.rows.at(0)).integer();
}

// ---- task logs ----

core::result<void> sql_run_store::append_task_log(core::task_instance_id task, int try_number,
                                                  std::span<const log_line> lines) {
    static constexpr std::string_view sql =
        "INSERT INTO task_logs (task_instance_id, try_number, logged_at, stream, line) "
        "VALUES ($1, $2, $3, $4, $5)";
    std::vector<sql_statement> statements;
    statements.reserve(lines.size());
    for (const log_line& line : lines) {
        statements.push_back(
            {sql,
             {task.value, std::int64_t{try_number}, to_micros(line.at), line.stream, line.text}});
    }
    return transact<void>(tx_mode::write, [&](sql_tx& tx) { tx.exec_batch(statements); });
}

core::result<void> sql_run_store::put_running_metrics(core::task_instance_id task, int try_number,
                                                      std::string_view metrics_json) {
    return transact<void>(tx_mode::write, [&](sql_tx& tx) {
        tx.exec(
            "UPDATE task_instances SET metrics = $1 "
            "WHERE id = $2 AND try_number = $3 AND state = 'running'",
            {std::string(metrics_json), task.value, std::int64_t{try_number}});
    });
}

core::result<std::vector<stored_log_line>> sql_run_store::read_task_log(core::task_instance_id task,
                                                                        std::int64_t after_seq,
                                                                        std::size_t limit) {
    return transact<std::vector<stored_log_line>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec(
            "SELECT seq, try_number, logged_at, stream, line FROM task_logs "
            "WHERE task_instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            {task.value, after_seq, clamp_limit(limit)});
        std::vector<stored_log_line> out;
        out.reserve(r.rows.size());
        for (const sql_row& row : r.rows) {
            row_reader rr(row);
            stored_log_line l;
            l.seq = rr.integer();
            l.try_number = static_cast<int>(rr.integer());
            l.line.at = rr.time();
            l.line.stream = rr.text();
            l.line.text = rr.text();
            out.push_back(std::move(l));
        }
        return out;
    });
}

// ---- events ----

core::result<std::int64_t> sql_run_store::append_event(const new_event& event) {
    const bool postgresql = engine_->dialect() == sql_dialect::postgresql;
    return transact<std::int64_t>(tx_mode::write, [&](sql_tx& tx) {
        if (postgresql) {
            tx.exec(events_order_lock_sql);  // events become visible in id order
        }
        return detail::insert_event(tx, event);
    });
}

core::result<std::int64_t> sql_run_store::last_event_id() {
    return transact<std::int64_t>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec("SELECT COALESCE(MAX(id), 0) FROM events");
        return row_reader(r.rows.at(0)).integer();
    });
}

namespace {

// One page of events beyond `bound` (id > bound oldest first, or id < bound newest first),
// optionally of one kind. A rare kind names the predicate of the (kind, id) index so that both
// engines may use it, in either direction; a hot kind walks the primary key (migration 6).
std::vector<event_record> read_event_page(sql_tx& tx, bool newest_first, std::int64_t bound,
                                          std::optional<std::string_view> kind,
                                          std::int64_t limit) {
    const std::string head =
        std::string("SELECT id, created_at, kind, job, run_id, task, payload, actor FROM events ") +
        (newest_first ? "WHERE id < $1 " : "WHERE id > $1 ");
    const std::string order = newest_first ? "ORDER BY id DESC LIMIT " : "ORDER BY id LIMIT ";
    sql_result r;
    if (kind) {
        const bool hot =
            hot_event_kinds.find("'" + std::string(*kind) + "'") != std::string_view::npos;
        const std::string rare_predicate =
            hot ? std::string() : "AND kind NOT IN " + std::string(hot_event_kinds) + " ";
        r = tx.exec(head + "AND kind = $2 " + rare_predicate + order + "$3",
                    {bound, text(*kind), limit});
    } else {
        r = tx.exec(head + order + "$2", {bound, limit});
    }
    std::vector<event_record> out;
    for (const sql_row& row : r.rows) {
        out.push_back(read_event(row));
    }
    return out;
}

}  // namespace

core::result<std::vector<event_record>> sql_run_store::read_events(
    std::int64_t after_id, std::optional<std::string_view> kind, std::size_t limit) {
    return transact<std::vector<event_record>>(tx_mode::read, [&](sql_tx& tx) {
        return read_event_page(tx, false, after_id, kind, clamp_limit(limit));
    });
}

core::result<std::vector<event_record>> sql_run_store::read_events_before(
    std::optional<std::int64_t> before_id, std::optional<std::string_view> kind,
    std::size_t limit) {
    return transact<std::vector<event_record>>(tx_mode::read, [&](sql_tx& tx) {
        return read_event_page(tx, true,
                               before_id.value_or(std::numeric_limits<std::int64_t>::max()), kind,
                               clamp_limit(limit));
    });
}

// ---- variables ----

core::result<std::optional<variable_record>> sql_run_store::get_variable(std::string_view key) {
    return transact<std::optional<variable_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec("SELECT key, value, secret, updated_at FROM variables WHERE key = $1",
                         {text(key)});
        return r.rows.empty() ? std::nullopt : std::optional(read_variable(r.rows.front()));
    });
}

core::result<void> sql_run_store::put_variable(const variable_record& v) {
    return transact<void>(tx_mode::write, [&](sql_tx& tx) {
        tx.exec(
            "INSERT INTO variables (key, value, secret, updated_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "secret = excluded.secret, updated_at = excluded.updated_at",
            {v.key, v.value, flag(v.secret), to_micros(v.updated_at)});
    });
}

core::result<bool> sql_run_store::delete_variable(std::string_view key) {
    return transact<bool>(tx_mode::write, [&](sql_tx& tx) {
        return tx.exec("DELETE FROM variables WHERE key = $1", {text(key)}).affected > 0;
    });
}

core::result<std::vector<variable_record>> sql_run_store::list_variables() {
    return transact<std::vector<variable_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec("SELECT key, value, secret, updated_at FROM variables ORDER BY key");
        std::vector<variable_record> out;
        for (const sql_row& row : r.rows) {
            out.push_back(read_variable(row));
        }
        return out;
    });
}

// ---- checkpoints ----

core::result<std::optional<std::string>> sql_run_store::get_checkpoint(std::string_view job,
                                                                       std::string_view task,
                                                                       std::string_view key) {
    return transact<std::optional<std::string>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec("SELECT value FROM checkpoints WHERE job = $1 AND task = $2 AND key = $3",
                         {text(job), text(task), text(key)});
        return r.rows.empty() ? std::nullopt : std::optional(row_reader(r.rows[0]).text());
    });
}

core::result<void> sql_run_store::put_checkpoint(std::string_view job, std::string_view task,
                                                 std::string_view key, std::string_view value_json,
                                                 core::time_point at) {
    return transact<void>(tx_mode::write, [&](sql_tx& tx) {
        tx.exec(
            "INSERT INTO checkpoints (job, task, key, value, updated_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job, task, key) DO UPDATE SET "
            "value = excluded.value, updated_at = excluded.updated_at",
            {text(job), text(task), text(key), text(value_json), to_micros(at)});
    });
}

// ---- instances ----

core::result<void> sql_run_store::register_instance(const instance_record& i) {
    return transact<void>(tx_mode::write, [&](sql_tx& tx) {
        tx.exec(
            "INSERT INTO instances (id, info, started_at, heartbeat_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET info = excluded.info, "
            "started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at",
            {i.id, i.info_json, to_micros(i.started_at), to_micros(i.heartbeat_at)});
        // Every process registers under an identity of its own, so rows of processes long gone
        // would pile up: a week without a heartbeat is far past any lease they held.
        tx.exec("DELETE FROM instances WHERE heartbeat_at < $1",
                {to_micros(i.heartbeat_at - std::chrono::hours(24 * 7))});
    });
}

core::result<bool> sql_run_store::heartbeat_instance(std::string_view id, core::time_point at) {
    return transact<bool>(tx_mode::write, [&](sql_tx& tx) {
        return tx.exec("UPDATE instances SET heartbeat_at = $1 WHERE id = $2",
                       {to_micros(at), text(id)})
                   .affected > 0;
    });
}

core::result<std::vector<instance_record>> sql_run_store::list_instances() {
    return transact<std::vector<instance_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec("SELECT id, info, started_at, heartbeat_at FROM instances ORDER BY id");
        std::vector<instance_record> out;
        for (const sql_row& row : r.rows) {
            out.push_back(read_instance(row));
        }
        return out;
    });
}

}  // namespace sluice::store
