#include "store/sql_run_store.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "store/migrations.hpp"
#include "store/sql/row_reader.hpp"
#include "store/sql_transitions.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The most rows one list_runs page returns, whatever the caller asks for.
constexpr std::size_t max_page_size = 1000;

constexpr std::string_view run_columns =
    "id, job, run_key, trigger_kind, params, logical_time, data_interval_start, "
    "data_interval_end, backfill_id, state, created_at, started_at, finished_at";

constexpr std::string_view task_columns =
    "id, run_id, job, task, state, try_number, max_tries, lease_owner, lease_epoch, "
    "lease_expires_at, queued_at, started_at, finished_at, next_attempt_at, error_class, "
    "error_message, metrics, outputs, interruptions";

constexpr std::string_view job_columns = "name, definition_hash, paused, last_scheduled_tick";

[[noreturn]] void corrupt(std::string what) {
    throw store_failure(core::error::permanent("store: unexpected stored value: " + what));
}

template <class Enum>
Enum parse_or_corrupt(std::optional<Enum> parsed, const std::string& text, const char* what) {
    if (!parsed) {
        corrupt(std::string(what) + " '" + text + "'");
    }
    return *parsed;
}

job_record read_job(const sql_row& row) {
    row_reader r(row);
    job_record j;
    j.name = r.text();
    j.definition_hash = r.text();
    j.paused = r.boolean();
    j.last_scheduled_tick = r.opt_time();
    return j;
}

run_record read_run(const sql_row& row) {
    row_reader r(row);
    run_record run;
    run.id = core::run_id{r.integer()};
    run.job = r.text();
    run.run_key = r.text();
    std::string trigger = r.text();
    run.trigger = parse_or_corrupt(parse_trigger_kind(trigger), trigger, "trigger kind");
    run.params_json = r.text();
    run.logical_time = r.opt_time();
    run.data_interval_start = r.opt_time();
    run.data_interval_end = r.opt_time();
    if (auto b = r.opt_int()) {
        run.backfill = core::backfill_id{*b};
    }
    std::string state = r.text();
    run.state = parse_or_corrupt(parse_run_state(state), state, "run state");
    run.created_at = r.time();
    run.started_at = r.opt_time();
    run.finished_at = r.opt_time();
    return run;
}

task_instance_record read_task(const sql_row& row) {
    row_reader r(row);
    task_instance_record t;
    t.id = core::task_instance_id{r.integer()};
    t.run = core::run_id{r.integer()};
    t.job = r.text();
    t.task = r.text();
    std::string state = r.text();
    t.state = parse_or_corrupt(parse_task_state(state), state, "task state");
    t.try_number = static_cast<int>(r.integer());
    t.max_tries = static_cast<int>(r.integer());
    t.lease_owner = r.opt_text();
    t.lease_epoch = r.integer();
    t.lease_expires_at = r.opt_time();
    t.queued_at = r.opt_time();
    t.started_at = r.opt_time();
    t.finished_at = r.opt_time();
    t.next_attempt_at = r.opt_time();
    if (auto cls = r.opt_text()) {
        t.error_cls = parse_or_corrupt(parse_error_class(*cls), *cls, "error class");
    }
    t.error_message = r.opt_text();
    t.metrics_json = r.text();
    t.outputs_json = r.text();
    t.interruptions = static_cast<int>(r.integer());
    return t;
}

template <class Record, class Reader>
std::vector<Record> read_all(const sql_result& result, Reader reader) {
    std::vector<Record> out;
    out.reserve(result.rows.size());
    for (const sql_row& row : result.rows) {
        out.push_back(reader(row));
    }
    return out;
}

std::string select_from(std::string_view columns, std::string_view table, std::string_view rest) {
    std::string sql = "SELECT ";
    sql += columns;
    sql += " FROM ";
    sql += table;
    sql += " ";
    sql += rest;
    return sql;
}

}  // namespace

sql_run_store::sql_run_store(std::unique_ptr<sql_engine> engine) : engine_(std::move(engine)) {}

core::result<void> sql_run_store::migrate() {
    return apply_migrations(*engine_);
}

core::result<int> sql_run_store::schema_version() {
    return current_schema_version(*engine_);
}

// ---- jobs ----

core::result<job_record> sql_run_store::upsert_job(std::string_view name,
                                                   std::string_view definition_hash,
                                                   bool initial_paused) {
    return transact<job_record>(tx_mode::write, [&](sql_tx& tx) {
        // On conflict only the definition changes: a stored pause wins over the config's.
        tx.exec(
            "INSERT INTO jobs (name, definition_hash, paused) VALUES ($1, $2, $3) "
            "ON CONFLICT (name) DO UPDATE SET definition_hash = excluded.definition_hash",
            {text(name), text(definition_hash), flag(initial_paused)});
        auto r = tx.exec(select_from(job_columns, "jobs", "WHERE name = $1"), {text(name)});
        if (r.rows.empty()) {
            corrupt("job '" + std::string(name) + "' missing after upsert");
        }
        return read_job(r.rows.front());
    });
}

core::result<std::vector<job_record>> sql_run_store::upsert_jobs(std::span<const job_upsert> jobs) {
    // Multi-row upserts of a few fixed sizes (each prepared once), then one read of the rows.
    static constexpr std::size_t rows_per_statement[] = {256, 16, 1};
    static const auto texts = [] {
        std::vector<std::string> out;
        for (std::size_t n : rows_per_statement) {
            std::string sql = "INSERT INTO jobs (name, definition_hash, paused) VALUES ";
            for (std::size_t row = 0; row < n; ++row) {
                sql += row == 0 ? "(" : ", (";
                for (std::size_t i = 1; i <= 3; ++i) {
                    sql += (i == 1 ? "$" : ", $") + std::to_string(row * 3 + i);
                }
                sql += ")";
            }
            // On conflict only the definition changes: a stored pause wins over the config's.
            sql += " ON CONFLICT (name) DO UPDATE SET definition_hash = excluded.definition_hash";
            out.push_back(std::move(sql));
        }
        return out;
    }();
    return transact<std::vector<job_record>>(tx_mode::write, [&](sql_tx& tx) {
        std::size_t next = 0;
        std::vector<sql_value> params;
        for (std::size_t shape = 0; shape < std::size(rows_per_statement); ++shape) {
            const std::size_t rows = rows_per_statement[shape];
            while (jobs.size() - next >= rows) {
                params.clear();
                for (std::size_t i = 0; i < rows; ++i, ++next) {
                    params.push_back(jobs[next].name);
                    params.push_back(jobs[next].definition_hash);
                    params.push_back(flag(jobs[next].initial_paused));
                }
                tx.exec(texts[shape], params);
            }
        }
        std::unordered_map<std::string, job_record> stored;
        for (const sql_row& row : tx.exec(select_from(job_columns, "jobs", "")).rows) {
            job_record j = read_job(row);
            stored.emplace(j.name, std::move(j));
        }
        std::vector<job_record> out;
        out.reserve(jobs.size());
        for (const job_upsert& j : jobs) {
            auto it = stored.find(j.name);
            if (it == stored.end()) {
                corrupt("job '" + j.name + "' missing after upsert");
            }
            out.push_back(std::move(it->second));
        }
        return out;
    });
}

core::result<bool> sql_run_store::set_paused(std::string_view name, bool paused) {
    return transact<bool>(tx_mode::write, [&](sql_tx& tx) {
        return tx.exec("UPDATE jobs SET paused = $1 WHERE name = $2", {flag(paused), text(name)})
                   .affected > 0;
    });
}

core::result<std::optional<job_record>> sql_run_store::get_job(std::string_view name) {
    return transact<std::optional<job_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec(select_from(job_columns, "jobs", "WHERE name = $1"), {text(name)});
        return r.rows.empty() ? std::nullopt : std::optional(read_job(r.rows.front()));
    });
}

core::result<std::vector<job_record>> sql_run_store::list_jobs() {
    return transact<std::vector<job_record>>(tx_mode::read, [&](sql_tx& tx) {
        return read_all<job_record>(tx.exec(select_from(job_columns, "jobs", "ORDER BY name")),
                                    read_job);
    });
}

// ---- runs ----

std::optional<std::string> detail::malformed_creation(const new_run& run) {
    for (const new_task_instance& t : run.tasks) {
        if (t.state == task_state::pending) {
            continue;
        }
        if (!run.started_at) {
            return "task '" + t.task + "' is created " + std::string(to_string(t.state)) +
                   " in a run that is not created started";
        }
        if (t.state != task_state::queued && t.state != task_state::running) {
            return "task '" + t.task + "' cannot be created " + std::string(to_string(t.state));
        }
        if (t.state == task_state::running && t.lease_owner.empty()) {
            return "task '" + t.task + "' is created running without a lease owner";
        }
    }
    return std::nullopt;
}

task_instance_record detail::created_task(core::task_instance_id id, core::run_id run_id,
                                          const new_run& run, const new_task_instance& task) {
    task_instance_record t;
    t.id = id;
    t.run = run_id;
    t.job = run.job;
    t.task = task.task;
    t.max_tries = task.max_tries;
    t.state = task.state;
    if (task.state != task_state::pending) {
        t.queued_at = run.started_at;
    }
    if (task.state == task_state::running) {
        t.try_number = 1;
        t.lease_owner = task.lease_owner;
        t.lease_epoch = 1;
        t.lease_expires_at = task.lease_expires_at;
        t.started_at = run.started_at;
    }
    return t;
}

create_run_result detail::insert_run(sql_tx& tx, const new_run& run,
                                     std::vector<task_instance_record>* tasks) {
    if (auto why = malformed_creation(run)) {
        throw store_failure(core::error::permanent("store: " + *why));
    }
    sql_value backfill = opt_int(run.backfill ? std::optional(run.backfill->value) : std::nullopt);
    auto inserted = tx.exec(
        "INSERT INTO runs (job, run_key, trigger_kind, params, logical_time, "
        "data_interval_start, data_interval_end, backfill_id, state, created_at, started_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (run_key) DO NOTHING RETURNING id",
        {run.job, run.run_key, text(to_string(run.trigger)), run.params_json,
         opt_micros(run.logical_time), opt_micros(run.data_interval_start),
         opt_micros(run.data_interval_end), backfill, text(run.started_at ? "running" : "queued"),
         to_micros(run.created_at), opt_micros(run.started_at)});
    if (inserted.rows.empty()) {
        // The key is taken (by an earlier or a concurrent, now committed, transaction).
        auto existing = tx.exec("SELECT id FROM runs WHERE run_key = $1", {run.run_key});
        if (existing.rows.empty()) {
            corrupt("run_key '" + run.run_key + "' conflicted but no run holds it");
        }
        return create_run_result{core::run_id{row_reader(existing.rows[0]).integer()}, false};
    }
    core::run_id id{row_reader(inserted.rows[0]).integer()};
    for (const new_task_instance& task : run.tasks) {
        const task_instance_record t = created_task({}, id, run, task);
        auto r = tx.exec(
            "INSERT INTO task_instances (run_id, job, task, state, try_number, max_tries, "
            "lease_owner, lease_epoch, lease_expires_at, queued_at, started_at, metrics) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '{}') RETURNING id",
            {id.value, run.job, task.task, text(to_string(t.state)), std::int64_t{t.try_number},
             std::int64_t{task.max_tries}, opt_text(t.lease_owner), t.lease_epoch,
             opt_micros(t.lease_expires_at), opt_micros(t.queued_at), opt_micros(t.started_at)});
        if (tasks != nullptr) {
            task_instance_record& created = tasks->emplace_back(t);
            created.id = core::task_instance_id{row_reader(r.rows.at(0)).integer()};
        }
    }
    if (run.trigger == trigger_kind::scheduled && run.logical_time) {
        tx.exec(
            "UPDATE jobs SET last_scheduled_tick = $1 WHERE name = $2 AND "
            "(last_scheduled_tick IS NULL OR last_scheduled_tick < $1)",
            {to_micros(*run.logical_time), run.job});
    }
    return create_run_result{id, true};
}

core::result<create_run_result> sql_run_store::create_run(const new_run& run) {
    return transact<create_run_result>(tx_mode::write,
                                       [&](sql_tx& tx) { return detail::insert_run(tx, run); });
}

run_record detail::read_run_row(const sql_row& row) {
    return read_run(row);
}

std::string_view detail::run_select_columns() {
    return run_columns;
}

scheduler::task_instance_record detail::read_task_row(const sql_row& row) {
    return read_task(row);
}

std::string_view detail::task_select_columns() {
    return task_columns;
}

core::result<std::optional<run_record>> sql_run_store::get_run(core::run_id id) {
    return transact<std::optional<run_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec(select_from(run_columns, "runs", "WHERE id = $1"), {id.value});
        return r.rows.empty() ? std::nullopt : std::optional(read_run(r.rows.front()));
    });
}

core::result<run_page> sql_run_store::list_runs(const run_filter& filter) {
    return transact<run_page>(tx_mode::read, [&](sql_tx& tx) {
        std::string where = "WHERE 1 = 1";
        std::vector<sql_value> params;
        auto add = [&](std::string_view condition, sql_value value) {
            params.push_back(std::move(value));
            where += " AND ";
            where += condition;
            where += " $" + std::to_string(params.size());
        };
        if (filter.job) {
            add("job =", *filter.job);
        }
        if (filter.state) {
            add("state =", text(to_string(*filter.state)));
        }
        if (filter.before) {
            add("id <", filter.before->value);
        }
        std::size_t limit = std::clamp<std::size_t>(filter.limit, 1, max_page_size);
        // One row more than asked tells whether another page follows.
        // (In place: GCC 12 reports a false maybe-uninitialized on a converted push_back.)
        params.emplace_back(std::in_place_type<std::int64_t>, static_cast<std::int64_t>(limit + 1));
        where += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
        auto r = tx.exec(select_from(run_columns, "runs", where), params);
        run_page page;
        page.runs = read_all<run_record>(r, read_run);
        if (page.runs.size() > limit) {
            page.runs.resize(limit);
            page.next_cursor = page.runs.back().id;
        }
        return page;
    });
}

core::result<std::vector<task_instance_record>> sql_run_store::list_task_instances(
    core::run_id run) {
    return transact<std::vector<task_instance_record>>(tx_mode::read, [&](sql_tx& tx) {
        return read_all<task_instance_record>(
            tx.exec(select_from(task_columns, "task_instances", "WHERE run_id = $1 ORDER BY id"),
                    {run.value}),
            read_task);
    });
}

core::result<std::vector<attempt_record>> sql_run_store::list_task_attempts(core::run_id run) {
    return transact<std::vector<attempt_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec(
            "SELECT a.task_instance_id, a.try_number, a.state, a.started_at, a.finished_at, "
            "a.error_class, a.error_message, a.metrics, a.node FROM task_attempts a "
            "JOIN task_instances t ON t.id = a.task_instance_id WHERE t.run_id = $1 "
            "ORDER BY a.task_instance_id, a.try_number",
            {run.value});
        return read_all<attempt_record>(r, [](const sql_row& row) {
            row_reader r(row);
            attempt_record a;
            a.task_instance = core::task_instance_id{r.integer()};
            a.try_number = static_cast<int>(r.integer());
            std::string state = r.text();
            a.state = parse_or_corrupt(parse_task_state(state), state, "task state");
            a.started_at = r.opt_time();
            a.finished_at = r.opt_time();
            if (auto cls = r.opt_text()) {
                a.error_cls = parse_or_corrupt(parse_error_class(*cls), *cls, "error class");
            }
            a.error_message = r.opt_text();
            a.metrics_json = r.text();
            a.node = r.opt_text();
            return a;
        });
    });
}

core::result<std::optional<task_instance_record>> sql_run_store::get_task_instance(
    core::task_instance_id id) {
    return transact<std::optional<task_instance_record>>(tx_mode::read, [&](sql_tx& tx) {
        auto r = tx.exec(select_from(task_columns, "task_instances", "WHERE id = $1"), {id.value});
        return r.rows.empty() ? std::nullopt : std::optional(read_task(r.rows.front()));
    });
}

core::result<std::vector<run_record>> sql_run_store::list_unfinished_runs() {
    return transact<std::vector<run_record>>(tx_mode::read, [&](sql_tx& tx) {
        return read_all<run_record>(
            tx.exec(select_from(run_columns, "runs",
                                "WHERE state IN ('queued', 'running') ORDER BY id")),
            read_run);
    });
}

core::result<std::vector<task_instance_record>> sql_run_store::list_tasks_of_unfinished_runs() {
    return transact<std::vector<task_instance_record>>(tx_mode::read, [&](sql_tx& tx) {
        static const std::string where =
            "WHERE run_id IN (SELECT id FROM runs WHERE state IN ('queued', 'running')) "
            "ORDER BY run_id, id";
        return read_all<task_instance_record>(
            tx.exec(select_from(task_columns, "task_instances", where)), read_task);
    });
}

// ---- transitions ----

core::result<std::vector<transition_outcome>> sql_run_store::apply(
    std::span<const transition> batch) {
    // Fenced transitions as few statements as their fences allow, then the batch's events.
    compiled_batch compiled = compile_transitions(batch);
    // Events become visible in id order (events_order_lock_sql): the lock goes first.
    const std::size_t offset =
        engine_->dialect() == sql_dialect::postgresql && has_events(batch) ? 1 : 0;
    if (offset != 0) {
        compiled.statements.insert(compiled.statements.begin(),
                                   sql_statement{events_order_lock_sql, {}});
    }
    const auto& statement_of = compiled.statement_of;
    auto affected = engine_->transact_batch(compiled.statements);
    if (!affected) {
        return affected.error();
    }
    std::vector<transition_outcome> outcomes;
    outcomes.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        // Events and attempt_archive carry no fence: they are always applied.
        const bool applied = std::holds_alternative<new_event>(batch[i]) ||
                             std::holds_alternative<attempt_archive>(batch[i]) ||
                             affected->at(statement_of[i] + offset).affected > 0;
        outcomes.push_back(applied ? transition_outcome::applied : transition_outcome::conflict);
    }
    return outcomes;
}

}  // namespace sluice::store
