// Run creation in write batches (run_store::write_batch): the runs, their task instances and
// events that arrive together in the group-commit writer go in one transaction with the batch's
// transitions. Design notes: docs/operations.md, "Group commit".
//
// PostgreSQL: one prepared statement creates every run of the batch (multi-row INSERTs fed from
// three JSON parameters, chained by data-modifying CTEs); the transitions follow in the same
// pipeline, so the whole batch is one round trip and one commit. A duplicate key is skipped by
// ON CONFLICT DO NOTHING (no savepoint, no failed neighbour) and resolved to the stored run in
// the same statement. SQLite: the same rows through prepared single-row statements of one
// transaction (in process, there is no round trip to save).

#include <algorithm>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"
#include "store/sql_transitions.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The rows of one PostgreSQL creation statement: ('r', id, run_key, NULL) for a run it created,
// ('t', id, task, run_id) for each of their task instances, ('x', id, run_key, NULL) for a
// run that held the key before the statement began. With `fenced` (some creation carries a
// scheduler epoch) also ('e', epoch, '', NULL) when the scheduler lease is held and unexpired:
// the row is then locked FOR SHARE until the commit, and a creation whose epoch is not that one
// is not written (docs/cluster.md#the-scheduler).
std::string create_runs_sql(bool fenced) {
    std::string sql =
        "WITH v AS (SELECT * FROM json_to_recordset($1::json) AS v(i bigint, job text, run_key "
        "text, trigger_kind text, params text, logical_time bigint, data_interval_start bigint, "
        "data_interval_end bigint, backfill_id bigint, state text, created_at bigint, "
        "started_at bigint, epoch bigint)), ";
    if (fenced) {
        sql += "lk AS (" + detail::scheduler_fence_sql(sql_dialect::postgresql) + "), ";
    }
    sql +=
        "ins AS (INSERT INTO runs (job, run_key, trigger_kind, params, logical_time, "
        "data_interval_start, data_interval_end, backfill_id, state, created_at, started_at) "
        "SELECT job, run_key, trigger_kind, params::jsonb, logical_time, data_interval_start, "
        "data_interval_end, backfill_id, state, created_at, started_at FROM v ";
    if (fenced) {
        sql += "WHERE v.epoch = 0 OR v.epoch IN (SELECT epoch FROM lk) ";
    }
    sql +=
        "ORDER BY i ON CONFLICT (run_key) DO NOTHING RETURNING id, run_key, job), "
        "ti AS (INSERT INTO task_instances (run_id, job, task, state, try_number, max_tries, "
        "lease_owner, lease_epoch, lease_expires_at, queued_at, started_at, metrics) "
        "SELECT ins.id, ins.job, t.task, t.state, t.try_number, t.max_tries, t.lease_owner, "
        "t.lease_epoch, t.lease_expires_at, t.queued_at, t.started_at, '{}' "
        "FROM json_to_recordset($2::json) AS t(i bigint, run_key text, task text, max_tries int, "
        "state text, try_number int, lease_owner text, lease_epoch bigint, lease_expires_at "
        "bigint, queued_at bigint, started_at bigint) "
        "JOIN ins ON ins.run_key = t.run_key ORDER BY t.i RETURNING id, run_id, task), "
        "ev AS (INSERT INTO events (created_at, kind, job, run_id, task, payload, actor) "
        "SELECT e.created_at, e.kind, e.job, ins.id, e.task, e.payload::jsonb, e.actor "
        "FROM json_to_recordset($3::json) AS e(i bigint, run_key text, created_at bigint, kind "
        "text, job text, task text, payload text, actor text) "
        "JOIN ins ON ins.run_key = e.run_key ORDER BY e.i), "
        "jb AS (UPDATE jobs SET last_scheduled_tick = s.tick FROM (SELECT v.job, "
        "max(v.logical_time) AS tick FROM v JOIN ins ON ins.run_key = v.run_key "
        "WHERE v.trigger_kind = 'scheduled' AND v.logical_time IS NOT NULL GROUP BY v.job) s "
        "WHERE jobs.name = s.job AND (jobs.last_scheduled_tick IS NULL OR "
        "jobs.last_scheduled_tick < s.tick)) "
        "SELECT 'r', id, run_key, NULL FROM ins "
        "UNION ALL SELECT 't', id, task, run_id::text FROM ti "
        "UNION ALL SELECT 'x', r.id, r.run_key, NULL FROM runs r JOIN v ON r.run_key = v.run_key";
    if (fenced) {
        sql += " UNION ALL SELECT 'e', epoch, '', NULL FROM lk";
    }
    return sql;
}

bool any_fenced(std::span<const run_creation> creations) {
    return std::any_of(creations.begin(), creations.end(),
                       [](const run_creation& c) { return c.run.scheduler_epoch != 0; });
}

nlohmann::json opt_json(const std::optional<core::time_point>& t) {
    return t ? nlohmann::json(to_micros(*t)) : nlohmann::json(nullptr);
}

nlohmann::json opt_json(const std::optional<std::string>& s) {
    return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

// The statement creating `creations[i]` for each i in `firsts` (distinct run keys).
sql_statement creation_statement(std::span<const run_creation> creations,
                                 const std::vector<std::size_t>& firsts) {
    nlohmann::json runs = nlohmann::json::array();
    nlohmann::json tasks = nlohmann::json::array();
    nlohmann::json events = nlohmann::json::array();
    for (std::size_t i : firsts) {
        const new_run& r = creations[i].run;
        runs.push_back({{"i", i},
                        {"job", r.job},
                        {"run_key", r.run_key},
                        {"trigger_kind", std::string(to_string(r.trigger))},
                        {"params", r.params_json},
                        {"logical_time", opt_json(r.logical_time)},
                        {"data_interval_start", opt_json(r.data_interval_start)},
                        {"data_interval_end", opt_json(r.data_interval_end)},
                        {"backfill_id",
                         r.backfill ? nlohmann::json(r.backfill->value) : nlohmann::json(nullptr)},
                        {"state", r.started_at ? "running" : "queued"},
                        {"created_at", to_micros(r.created_at)},
                        {"started_at", opt_json(r.started_at)},
                        {"epoch", r.scheduler_epoch}});
        for (const new_task_instance& t : r.tasks) {
            const task_instance_record stored = detail::created_task({}, {}, r, t);
            tasks.push_back({{"i", tasks.size()},
                             {"run_key", r.run_key},
                             {"task", t.task},
                             {"max_tries", t.max_tries},
                             {"state", std::string(to_string(stored.state))},
                             {"try_number", stored.try_number},
                             {"lease_owner", opt_json(stored.lease_owner)},
                             {"lease_epoch", stored.lease_epoch},
                             {"lease_expires_at", opt_json(stored.lease_expires_at)},
                             {"queued_at", opt_json(stored.queued_at)},
                             {"started_at", opt_json(stored.started_at)}});
        }
        for (const new_event& e : creations[i].events) {
            events.push_back({{"i", events.size()},
                              {"run_key", r.run_key},
                              {"created_at", to_micros(e.at)},
                              {"kind", e.kind},
                              {"job", opt_json(e.job)},
                              {"task", opt_json(e.task)},
                              {"payload", e.payload_json},
                              {"actor", e.actor}});
        }
    }
    static const std::string plain = create_runs_sql(false);
    static const std::string fenced = create_runs_sql(true);
    return {any_fenced(creations) ? fenced : plain, {runs.dump(), tasks.dump(), events.dump()}};
}

// Fills `out` (one per creation) from the creation statement's rows; returns the keys no row
// resolved (taken by a transaction that committed while the statement ran).
std::vector<std::size_t> read_creation_rows(std::span<const run_creation> creations,
                                            const std::vector<std::size_t>& firsts,
                                            const std::vector<sql_row>& rows,
                                            std::vector<created_run>& out) {
    std::unordered_map<std::string_view, std::size_t> by_key;  // run_key -> creation
    for (std::size_t i : firsts) {
        by_key.emplace(creations[i].run.run_key, i);
    }
    std::unordered_map<std::int64_t, std::size_t> by_id;  // new run id -> creation
    std::unordered_map<std::int64_t, std::unordered_map<std::string, core::task_instance_id>>
        task_ids;
    std::vector<bool> resolved(creations.size(), false);
    std::optional<std::int64_t> lease_epoch;  // the scheduler lease's, while held
    for (const sql_row& row : rows) {
        row_reader r(row);
        const std::string kind = r.text();
        const std::int64_t id = r.integer();
        const std::string name = r.text();
        if (kind == "e") {
            lease_epoch = id;
            continue;
        }
        if (kind == "t") {
            task_ids[r.integer()][name] = core::task_instance_id{id};
            continue;
        }
        auto it = by_key.find(name);
        if (it == by_key.end()) {
            throw store_failure(
                core::error::permanent("store: a created run came back with an unknown key"));
        }
        out[it->second] = created_run{core::run_id{id}, kind == "r", {}};
        resolved[it->second] = true;
    }
    std::vector<std::size_t> unresolved;
    for (std::size_t i : firsts) {
        const std::int64_t epoch = creations[i].run.scheduler_epoch;
        if (!resolved[i] && epoch != 0 && lease_epoch != epoch) {
            out[i] = created_run{{}, false, {}, /*fenced=*/true};
            continue;
        }
        if (!resolved[i]) {
            unresolved.push_back(i);
            continue;
        }
        created_run& c = out[i];
        if (!c.created) {
            continue;
        }
        const auto& ids = task_ids[c.id.value];
        for (const new_task_instance& t : creations[i].run.tasks) {
            auto found = ids.find(t.task);
            if (found == ids.end()) {
                throw store_failure(core::error::permanent("store: task '" + t.task + "' of run " +
                                                           c.id.to_string() + " not created"));
            }
            c.tasks.push_back(detail::created_task(found->second, c.id, creations[i].run, t));
        }
    }
    return unresolved;
}

}  // namespace

core::result<batch_outcomes> sql_run_store::write_batch(std::span<const run_creation> creations,
                                                        std::span<const transition> batch) {
    for (const run_creation& c : creations) {
        if (auto why = detail::malformed_creation(c.run)) {
            return core::error::permanent("store: " + *why);
        }
    }
    if (creations.empty()) {
        auto applied = apply(batch);
        if (!applied) {
            return applied.error();
        }
        return batch_outcomes{{}, std::move(*applied)};
    }
    // A key repeated in the batch: the first creation holding it is written, the later ones
    // resolve to its run (created false).
    std::vector<std::size_t> first_of(creations.size());
    std::vector<std::size_t> firsts;
    {
        std::unordered_map<std::string_view, std::size_t> seen;
        for (std::size_t i = 0; i < creations.size(); ++i) {
            auto [it, fresh] = seen.emplace(creations[i].run.run_key, i);
            first_of[i] = it->second;
            if (fresh) {
                firsts.push_back(i);
            }
        }
    }
    batch_outcomes out;
    out.runs.resize(creations.size());
    std::vector<std::size_t> unresolved;
    if (engine_->dialect() == sql_dialect::postgresql) {
        compiled_batch compiled = compile_transitions(batch);
        std::vector<sql_statement> statements;
        statements.reserve(compiled.statements.size() + 2);
        // Events become visible in id order (events_order_lock_sql): the lock goes first.
        const bool events = has_events(batch) ||
                            std::any_of(creations.begin(), creations.end(),
                                        [](const run_creation& c) { return !c.events.empty(); });
        const std::size_t offset = events ? 1 : 0;
        if (events) {
            statements.push_back(sql_statement{events_order_lock_sql, {}});
        }
        statements.push_back(creation_statement(creations, firsts));
        std::move(compiled.statements.begin(), compiled.statements.end(),
                  std::back_inserter(statements));
        auto results = engine_->transact_batch(statements);
        if (!results) {
            return results.error();
        }
        try {
            unresolved = read_creation_rows(creations, firsts, results->at(offset).rows, out.runs);
        } catch (const store_failure& f) {
            return f.err();
        }
        out.transitions.reserve(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const bool applied = std::holds_alternative<new_event>(batch[i]) ||
                                 std::holds_alternative<attempt_archive>(batch[i]) ||
                                 results->at(compiled.statement_of[i] + offset + 1).affected > 0;
            out.transitions.push_back(applied ? transition_outcome::applied
                                              : transition_outcome::conflict);
        }
    } else {
        auto done = engine_->transact(tx_mode::write, [&](sql_tx& tx) {
            std::optional<std::int64_t> lease_epoch;  // the scheduler lease's, while held
            if (any_fenced(creations)) {
                auto lease = tx.exec(detail::scheduler_fence_sql(engine_->dialect()));
                if (!lease.rows.empty()) {
                    lease_epoch = row_reader(lease.rows.front()).integer();
                }
            }
            std::vector<transition> all;
            for (std::size_t i : firsts) {
                const run_creation& c = creations[i];
                if (c.run.scheduler_epoch != 0 && lease_epoch != c.run.scheduler_epoch) {
                    // As on PostgreSQL: a key already held resolves to its run all the same.
                    auto held = tx.exec("SELECT id FROM runs WHERE run_key = $1", {c.run.run_key});
                    out.runs[i] =
                        held.rows.empty()
                            ? created_run{{}, false, {}, /*fenced=*/true}
                            : created_run{
                                  core::run_id{row_reader(held.rows.front()).integer()}, false, {}};
                    continue;
                }
                std::vector<task_instance_record> tasks;
                const create_run_result r = detail::insert_run(tx, c.run, &tasks);
                out.runs[i] = created_run{r.id, r.created, std::move(tasks)};
                if (r.created) {
                    for (new_event e : c.events) {
                        e.run = r.id;
                        all.emplace_back(std::move(e));
                    }
                }
            }
            // The creations' events first: event ids ascend in the order things happened.
            const std::size_t created_events = all.size();
            all.insert(all.end(), batch.begin(), batch.end());
            const compiled_batch compiled = compile_transitions(all);
            const std::vector<std::int64_t> affected = tx.exec_batch(compiled.statements);
            for (std::size_t i = created_events; i < all.size(); ++i) {
                const bool applied = std::holds_alternative<new_event>(all[i]) ||
                                     std::holds_alternative<attempt_archive>(all[i]) ||
                                     affected.at(compiled.statement_of[i]) > 0;
                out.transitions.push_back(applied ? transition_outcome::applied
                                                  : transition_outcome::conflict);
            }
        });
        if (!done) {
            return done.error();
        }
    }
    // Keys taken by a transaction that committed while ours ran: that run is the answer.
    for (std::size_t i : unresolved) {
        auto held = transact<std::optional<std::int64_t>>(tx_mode::read, [&](sql_tx& tx) {
            auto r = tx.exec("SELECT id FROM runs WHERE run_key = $1", {creations[i].run.run_key});
            return r.rows.empty() ? std::nullopt
                                  : std::optional(row_reader(r.rows.front()).integer());
        });
        if (!held) {
            return held.error();
        }
        if (!*held) {
            return core::error::permanent("store: run_key '" + creations[i].run.run_key +
                                          "' conflicted but no run holds it");
        }
        out.runs[i] = created_run{core::run_id{**held}, false, {}};
    }
    for (std::size_t i = 0; i < creations.size(); ++i) {
        if (first_of[i] != i) {
            const created_run& first = out.runs[first_of[i]];
            out.runs[i] = created_run{first.id, false, {}, first.fenced};
        }
    }
    return out;
}

}  // namespace sluice::store
