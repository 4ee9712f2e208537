// The sql_run_store's backfills: the backfills table, its fenced progress steps, and the run
// reads backfills need (their kept run counts, runs by logical time for reprocess decisions).

#include <algorithm>
#include <map>

#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The most backfills one listing returns, whatever the caller asks for.
constexpr std::size_t max_backfill_rows = 1000;

constexpr std::string_view backfill_columns =
    "id, job, range_start, range_end, run_order, max_active_runs, reprocess_mode, state, "
    "planned, steps, skipped, cursor_time, actor, created_at, updated_at, params";

template <class Enum>
Enum parse_or_throw(std::optional<Enum> parsed, const std::string& text, const char* what) {
    if (!parsed) {
        throw store_failure(core::error::permanent(
            "store: unexpected stored value: " + std::string(what) + " '" + text + "'"));
    }
    return *parsed;
}

backfill_record read_backfill(const sql_row& row) {
    row_reader r(row);
    backfill_record b;
    b.id = core::backfill_id{r.integer()};
    b.job = r.text();
    b.range_start = r.time();
    b.range_end = r.time();
    std::string order = r.text();
    b.order = parse_or_throw(parse_backfill_order(order), order, "backfill order");
    b.max_active_runs = static_cast<int>(r.integer());
    std::string mode = r.text();
    b.reprocess = parse_or_throw(parse_reprocess_mode(mode), mode, "reprocess mode");
    std::string state = r.text();
    b.state = parse_or_throw(parse_backfill_state(state), state, "backfill state");
    b.planned = r.integer();
    b.steps = r.integer();
    b.skipped = r.integer();
    b.cursor = r.opt_time();
    b.actor = r.text();
    b.created_at = r.time();
    b.updated_at = r.time();
    b.params_json = r.text();
    return b;
}

// Fills the run counts of `backfills` from the counts the store keeps (migration 11: a few rows
// per backfill, read by key), not from the runs themselves, so a listing costs its backfills
// rather than their runs (docs/benchmarks.md#admin-page-at-size).
void count_runs(sql_tx& tx, std::vector<backfill_record>& backfills) {
    if (backfills.empty()) {
        return;
    }
    std::string sql =
        "SELECT backfill_id, state, runs FROM backfill_run_counts WHERE backfill_id IN (";
    std::vector<sql_value> params;
    std::map<std::int64_t, backfill_run_counts*> by_id;
    for (backfill_record& b : backfills) {
        params.emplace_back(std::in_place_type<std::int64_t>, b.id.value);
        sql += (params.size() > 1 ? ", $" : "$") + std::to_string(params.size());
        by_id[b.id.value] = &b.runs;
    }
    sql += ")";
    for (const sql_row& row : tx.exec(sql, params).rows) {
        row_reader r(row);
        backfill_run_counts& c = *by_id.at(r.integer());
        std::string state = r.text();
        const std::int64_t n = r.integer();
        c.created += n;
        switch (parse_or_throw(parse_run_state(state), state, "run state")) {
            case run_state::queued:
                c.queued += n;
                break;
            case run_state::running:
                c.running += n;
                break;
            case run_state::success:
                c.succeeded += n;
                break;
            case run_state::failed:
            case run_state::timed_out:
                c.failed += n;
                break;
            case run_state::canceled:
                c.canceled += n;
                break;
        }
    }
}

std::vector<backfill_record> read_backfills(sql_tx& tx, const std::string& where,
                                            const std::vector<sql_value>& params) {
    std::vector<backfill_record> out;
    std::string sql = "SELECT ";
    sql += backfill_columns;
    sql += " FROM backfills ";
    sql += where;
    for (const sql_row& row : tx.exec(sql, params).rows) {
        out.push_back(read_backfill(row));
    }
    count_runs(tx, out);
    return out;
}

}  // namespace

core::result<core::backfill_id> sql_run_store::create_backfill(const new_backfill& b) {
    return transact<core::backfill_id>(tx_mode::write, [&](sql_tx& tx) {
        auto r = tx.exec(
            "INSERT INTO backfills (job, range_start, range_end, run_order, max_active_runs, "
            "reprocess, reprocess_mode, state, progress, planned, steps, skipped, actor, "
            "created_at, updated_at, params) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', '{}', $8, 0, 0, $9, $10, $10, $11) "
            "RETURNING id",
            {b.job, to_micros(b.range_start), to_micros(b.range_end), text(to_string(b.order)),
             std::int64_t{b.max_active_runs}, flag(b.reprocess != reprocess_mode::none),
             text(to_string(b.reprocess)), b.planned, b.actor, to_micros(b.created_at),
             b.params_json});
        return core::backfill_id{row_reader(r.rows.at(0)).integer()};
    });
}

core::result<std::optional<backfill_record>> sql_run_store::get_backfill(core::backfill_id id) {
    return transact<std::optional<backfill_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto found = read_backfills(tx, "WHERE id = $1", {id.value});
        return found.empty() ? std::nullopt : std::optional(std::move(found.front()));
    });
}

core::result<std::vector<backfill_record>> sql_run_store::list_backfills(
    const backfill_filter& filter) {
    return transact<std::vector<backfill_record>>(tx_mode::read, [&](sql_tx& tx) {
        std::vector<sql_value> params;
        std::string where;
        if (filter.job) {
            params.emplace_back(*filter.job);
            where = "WHERE job = $1 ";
        }
        params.emplace_back(
            std::in_place_type<std::int64_t>,
            static_cast<std::int64_t>(std::clamp<std::size_t>(filter.limit, 1, max_backfill_rows)));
        where += "ORDER BY id DESC LIMIT $" + std::to_string(params.size());
        return read_backfills(tx, where, params);
    });
}

core::result<std::vector<backfill_record>> sql_run_store::list_unfinished_backfills() {
    return transact<std::vector<backfill_record>>(tx_mode::read, [&](sql_tx& tx) {
        return read_backfills(tx, "WHERE state IN ('running', 'paused') ORDER BY id", {});
    });
}

core::result<bool> sql_run_store::set_backfill_state(core::backfill_id id,
                                                     std::span<const backfill_state> from,
                                                     backfill_state to, core::time_point at) {
    return transact<bool>(tx_mode::write, [&](sql_tx& tx) {
        if (from.empty()) {
            return false;
        }
        std::vector<sql_value> params{text(to_string(to)), to_micros(at), id.value};
        std::string sql =
            "UPDATE backfills SET state = $1, updated_at = $2 WHERE id = $3 AND "
            "state IN (";
        for (backfill_state s : from) {
            params.push_back(text(to_string(s)));
            sql += (params.size() > 4 ? ", $" : "$") + std::to_string(params.size());
        }
        sql += ")";
        return tx.exec(sql, params).affected > 0;
    });
}

core::result<backfill_step_result> sql_run_store::apply_backfill_step(const backfill_step& step) {
    return transact<backfill_step_result>(tx_mode::write, [&](sql_tx& tx) {
        backfill_step_result out;
        // A run of a node that no longer holds the scheduler lease is not created, and the step
        // is not taken: the lease's holder takes it (docs/cluster.md#the-scheduler).
        if (step.run && step.run->scheduler_epoch != 0) {
            auto lease = tx.exec(detail::scheduler_fence_sql(engine_->dialect()));
            if (lease.rows.empty() ||
                row_reader(lease.rows.front()).integer() != step.run->scheduler_epoch) {
                out.fenced = true;
                return out;
            }
        }
        // Then the step's own fence: a step of a backfill that moved on (or was paused or
        // canceled in between) writes nothing, the run included.
        const auto advanced = tx.exec(
            "UPDATE backfills SET steps = steps + 1, skipped = skipped + $1, cursor_time = $2, "
            "updated_at = $3 WHERE id = $4 AND state = 'running' AND steps = $5",
            {std::int64_t{step.run ? 0 : 1}, to_micros(step.cursor), to_micros(step.at),
             step.backfill.value, step.expected_steps});
        if (advanced.affected == 0) {
            return out;
        }
        out.applied = true;
        if (step.run) {
            out.run = detail::insert_run(tx, *step.run);
        }
        return out;
    });
}

core::result<std::vector<run_record>> sql_run_store::list_runs_by_logical_time(
    std::string_view job, core::time_point first, core::time_point last) {
    return transact<std::vector<run_record>>(tx_mode::read, [&](sql_tx& tx) {
        std::string sql = "SELECT ";
        sql += detail::run_select_columns();
        sql +=
            " FROM runs WHERE job = $1 AND logical_time >= $2 AND logical_time <= $3 "
            "ORDER BY logical_time, id";
        std::vector<run_record> out;
        for (const sql_row& row :
             tx.exec(sql, {text(job), to_micros(first), to_micros(last)}).rows) {
            out.push_back(detail::read_run_row(row));
        }
        return out;
    });
}

}  // namespace sluice::store
