#include "store/sql_transitions.hpp"

#include <algorithm>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "store/sql/row_reader.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

// The SQL list of terminal task states, for CASE expressions.
std::string terminal_task_states() {
    std::string list;
    for (std::size_t i = 0; i < task_state_names.size(); ++i) {
        if (is_terminal(static_cast<task_state>(i))) {
            list += list.empty() ? "'" : ", '";
            list += task_state_names[i];
            list += "'";
        }
    }
    return list;
}

std::string terminal_run_states() {
    std::string list;
    for (std::size_t i = 0; i < run_state_names.size(); ++i) {
        if (is_terminal(static_cast<run_state>(i))) {
            list += list.empty() ? "'" : ", '";
            list += run_state_names[i];
            list += "'";
        }
    }
    return list;
}

// --- transitions: each becomes one statement; an affected row means its fence held ---

sql_statement statement_for(const run_transition& t) {
    static const std::string sql =
        "UPDATE runs SET state = $1, "
        "started_at = CASE WHEN $1 = 'running' THEN COALESCE(started_at, $2) ELSE started_at "
        "END, "
        "finished_at = CASE WHEN $1 IN (" +
        terminal_run_states() +
        ") THEN $2 WHEN $1 = 'queued' THEN NULL ELSE finished_at END "
        "WHERE id = $3 AND state = $4";
    return {sql, {text(to_string(t.to)), to_micros(t.at), t.run.value, text(to_string(t.from))}};
}

// The SET list of a task transition ($1..$9); shared by the fused statements below.
const std::string& task_transition_sets() {
    static const std::string sets =
        "state = $1, "
        "queued_at = CASE WHEN $1 = 'queued' THEN $2 ELSE queued_at END, "
        "started_at = CASE WHEN $1 = 'running' THEN $2 ELSE started_at END, "
        "finished_at = CASE WHEN $1 IN (" +
        terminal_task_states() +
        ") THEN $2 ELSE NULL END, "
        "try_number = COALESCE($3, try_number), "
        "error_class = COALESCE($4, error_class), "
        "error_message = COALESCE($5, error_message), "
        "next_attempt_at = COALESCE($6, next_attempt_at), "
        "metrics = COALESCE($7, metrics), "
        "outputs = COALESCE($8, outputs), "
        "interruptions = interruptions + $9 ";
    return sets;
}

// $1..$12 of a task transition: the SET values, then id, from-state and epoch for the fence.
std::vector<sql_value> task_transition_params(const task_transition& t) {
    std::optional<std::string> cls;
    if (t.error_cls) {
        cls = std::string(to_string(*t.error_cls));
    }
    return {text(to_string(t.to)),
            to_micros(t.at),
            opt_int(t.try_number),
            opt_text(cls),
            opt_text(t.error_message),
            opt_micros(t.next_attempt_at),
            opt_text(t.metrics_json),
            opt_text(t.outputs_json),
            std::int64_t{t.interrupted ? 1 : 0},
            t.task.value,
            text(to_string(t.from)),
            t.epoch};
}

sql_statement statement_for(const task_transition& t) {
    static const std::string sql = "UPDATE task_instances SET " + task_transition_sets() +
                                   "WHERE id = $10 AND state = $11 AND lease_epoch = $12";
    return {sql, task_transition_params(t)};
}

// A lease taken and the attempt started in one statement: what the engine submits back to back
// for every attempt. Same fences as the two statements (the epoch before the lease, the
// from-state, the lease being free or ours or expired); both apply or neither does.
sql_statement fused_start(const lease_acquire& lease, const task_transition& t) {
    static const std::string sql =
        "UPDATE task_instances SET " + task_transition_sets() +
        ", lease_owner = $13, lease_epoch = lease_epoch + 1, lease_expires_at = $14 "
        "WHERE id = $10 AND state = $11 AND lease_epoch + 1 = $12 AND "
        "(lease_owner IS NULL OR lease_owner = $13 OR lease_expires_at IS NULL OR "
        "lease_expires_at <= $15)";
    // The caller checked t.epoch == lease.expected_epoch + 1, so $12 fences the lease's epoch.
    sql_statement s{sql, task_transition_params(t)};
    s.params.insert(s.params.end(),
                    {sql_value{lease.owner}, to_micros(lease.expires_at), to_micros(lease.now)});
    return s;
}

// A task made ready and started in the same batch (the engine's eager start): its
// pending->queued transition, lease and queued->running transition as one UPDATE, with the
// fences of all three (from-state and epoch of the first, the lease being free or ours).
bool plain(const task_transition& t) {
    return !t.error_cls && !t.error_message && !t.next_attempt_at && !t.metrics_json &&
           !t.outputs_json && !t.interrupted;
}

sql_statement fused_ready_start(const task_transition& ready, const lease_acquire& lease,
                                const task_transition& start) {
    static constexpr std::string_view sql =
        "UPDATE task_instances SET state = $1, queued_at = $2, started_at = $3, "
        "try_number = COALESCE($4, try_number), finished_at = NULL, lease_owner = $5, "
        "lease_epoch = lease_epoch + 1, lease_expires_at = $6 "
        "WHERE id = $7 AND state = $8 AND lease_epoch = $9 AND "
        "(lease_owner IS NULL OR lease_owner = $5 OR lease_expires_at IS NULL OR "
        "lease_expires_at <= $10)";
    return {sql,
            {text(to_string(start.to)), to_micros(ready.at), to_micros(start.at),
             opt_int(start.try_number), sql_value{lease.owner}, to_micros(lease.expires_at),
             ready.task.value, text(to_string(ready.from)), ready.epoch, to_micros(lease.now)}};
}

// An attempt's end and its lease released in one statement (fenced on epoch and owner).
sql_statement fused_end(const task_transition& t, const lease_release& release) {
    static const std::string sql = "UPDATE task_instances SET " + task_transition_sets() +
                                   ", lease_owner = NULL, lease_expires_at = NULL "
                                   "WHERE id = $10 AND state = $11 AND lease_epoch = $12 AND "
                                   "lease_owner = $13";
    sql_statement s{sql, task_transition_params(t)};
    s.params.push_back(release.owner);
    return s;
}

sql_statement statement_for(const lease_acquire& t) {
    static constexpr std::string_view sql =
        "UPDATE task_instances SET lease_owner = $1, lease_epoch = lease_epoch + 1, "
        "lease_expires_at = $2 WHERE id = $3 AND lease_epoch = $4 AND "
        "(lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at IS NULL OR "
        "lease_expires_at <= $5)";
    return {sql,
            {t.owner, to_micros(t.expires_at), t.task.value, t.expected_epoch, to_micros(t.now)}};
}

sql_statement statement_for(const lease_renew& t) {
    static constexpr std::string_view sql =
        "UPDATE task_instances SET lease_expires_at = $1 "
        "WHERE id = $2 AND lease_epoch = $3 AND lease_owner = $4";
    return {sql, {to_micros(t.expires_at), t.task.value, t.epoch, t.owner}};
}

sql_statement statement_for(const lease_release& t) {
    static constexpr std::string_view sql =
        "UPDATE task_instances SET lease_owner = NULL, lease_expires_at = NULL "
        "WHERE id = $1 AND lease_epoch = $2 AND lease_owner = $3";
    return {sql, {t.task.value, t.epoch, t.owner}};
}

sql_statement statement_for(const new_event& e) {
    static constexpr std::string_view sql =
        "INSERT INTO events (created_at, kind, job, run_id, task, payload, actor) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)";
    return {sql,
            {to_micros(e.at), e.kind, opt_text(e.job),
             opt_int(e.run ? std::optional(e.run->value) : std::nullopt), opt_text(e.task),
             e.payload_json, e.actor}};
}

// Copies the task row's attempt into the history; the task row's fence was checked by the
// transitions before it. A try already kept (a replayed archive) stays as first written.
sql_statement statement_for(const attempt_archive& t) {
    static constexpr std::string_view sql =
        "INSERT INTO task_attempts (task_instance_id, try_number, state, started_at, "
        "finished_at, error_class, error_message, metrics, node) "
        "SELECT id, try_number, $1, started_at, $2, error_class, error_message, metrics, "
        "COALESCE($5, lease_owner) "
        "FROM task_instances WHERE id = $3 AND try_number = $4 "
        "ON CONFLICT (task_instance_id, try_number) DO NOTHING";
    return {sql,
            {text(to_string(t.state)), to_micros(t.at), t.task.value, std::int64_t{t.try_number},
             opt_text(t.node)}};
}

// The events of a batch as multi-row INSERTs in batch order (ids ascend in that order): half
// the rows of a typical batch are events, and they carry no fence. The row counts per statement
// come from a fixed set, largest first, so that every shape is prepared once per connection
// rather than parsed and planned at every commit. The largest keeps the parameter count far
// below SQLite's limit (32766).
constexpr std::size_t events_per_insert[] = {256, 64, 16, 4, 1};

const std::string& events_insert_sql(std::size_t rows) {
    static const auto texts = [] {
        std::vector<std::string> out;
        for (std::size_t n : events_per_insert) {
            std::string sql =
                "INSERT INTO events (created_at, kind, job, run_id, task, payload, actor) VALUES ";
            for (std::size_t row = 0; row < n; ++row) {
                sql += row == 0 ? "(" : ", (";
                for (std::size_t i = 1; i <= 7; ++i) {
                    sql += (i == 1 ? "$" : ", $") + std::to_string(row * 7 + i);
                }
                sql += ")";
            }
            out.push_back(std::move(sql));
        }
        return out;
    }();
    for (std::size_t i = 0; i < std::size(events_per_insert); ++i) {
        if (events_per_insert[i] == rows) {
            return texts[i];
        }
    }
    return texts.back();
}

void append_events_inserts(std::span<const transition> batch,
                           std::vector<sql_statement>& statements) {
    std::vector<const new_event*> events;
    for (const transition& t : batch) {
        if (const new_event* e = std::get_if<new_event>(&t)) {
            events.push_back(e);
        }
    }
    std::size_t next = 0;
    for (std::size_t rows : events_per_insert) {
        while (events.size() - next >= rows) {
            sql_statement& s = statements.emplace_back();
            s.sql = events_insert_sql(rows);
            s.params.reserve(rows * 7);
            for (std::size_t i = 0; i < rows; ++i) {
                sql_statement one = statement_for(*events[next++]);
                s.params.insert(s.params.end(), std::make_move_iterator(one.params.begin()),
                                std::make_move_iterator(one.params.end()));
            }
        }
    }
}

}  // namespace

bool has_events(std::span<const transition> batch) {
    return std::any_of(batch.begin(), batch.end(),
                       [](const transition& t) { return std::holds_alternative<new_event>(t); });
}

compiled_batch compile_transitions(std::span<const transition> batch) {
    compiled_batch out;
    std::vector<sql_statement>& statements = out.statements;
    std::vector<std::size_t>& statement_of = out.statement_of;
    // Fenced transitions one statement each, in order; then the batch's events together.
    statements.reserve(batch.size());
    statement_of.assign(batch.size(), 0);
    bool any_event = false;
    // A pending->queued transition not yet written: if the same task's lease and start follow
    // with nothing else about it in between, the three become one statement.
    std::unordered_map<std::int64_t, std::size_t> ready_at;  // task id -> index in batch
    std::vector<std::size_t> deferred_ready;                 // indexes, flushed at the end
    const auto touches = [](const transition& t) -> std::optional<std::int64_t> {
        return std::visit(
            [](const auto& one) -> std::optional<std::int64_t> {
                using T = std::decay_t<decltype(one)>;
                if constexpr (std::is_same_v<T, new_event> || std::is_same_v<T, run_transition>) {
                    return std::nullopt;
                } else {
                    return one.task.value;
                }
            },
            t);
    };
    const auto flush_ready = [&](std::int64_t task) {
        auto it = ready_at.find(task);
        if (it != ready_at.end()) {
            statement_of[it->second] = statements.size();
            statements.push_back(statement_for(std::get<task_transition>(batch[it->second])));
            std::erase(deferred_ready, it->second);
            ready_at.erase(it);
        }
    };
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (auto task = touches(batch[i])) {
            const auto* tt = std::get_if<task_transition>(&batch[i]);
            if (tt != nullptr && tt->from == task_state::pending && tt->to == task_state::queued &&
                plain(*tt) && !tt->try_number && !ready_at.contains(*task)) {
                ready_at.emplace(*task, i);
                deferred_ready.push_back(i);
                continue;
            }
            const auto* lease = std::get_if<lease_acquire>(&batch[i]);
            auto ready = ready_at.find(*task);
            if (lease != nullptr && ready != ready_at.end() && i + 1 < batch.size()) {
                const auto& queued = std::get<task_transition>(batch[ready->second]);
                const auto* start = std::get_if<task_transition>(&batch[i + 1]);
                if (start != nullptr && start->task == lease->task &&
                    start->from == task_state::queued && start->to == task_state::running &&
                    plain(*start) && lease->expected_epoch == queued.epoch &&
                    start->epoch == queued.epoch + 1) {
                    statement_of[ready->second] = statement_of[i] = statement_of[i + 1] =
                        statements.size();
                    statements.push_back(fused_ready_start(queued, *lease, *start));
                    std::erase(deferred_ready, ready->second);
                    ready_at.erase(ready);
                    ++i;
                    continue;
                }
            }
            flush_ready(*task);  // anything else about the task: its ready transition goes first
        }
        if (std::holds_alternative<new_event>(batch[i])) {
            any_event = true;
            continue;
        }
        statement_of[i] = statements.size();
        // Pairs the engine submits for every attempt become one UPDATE of the task row. Events
        // are skipped over when looking for the partner (they go last anyway).
        std::size_t next = i + 1;
        while (next < batch.size() && std::holds_alternative<new_event>(batch[next])) {
            ++next;
        }
        if (next < batch.size()) {
            const auto* lease = std::get_if<lease_acquire>(&batch[i]);
            const auto* start = std::get_if<task_transition>(&batch[next]);
            if (lease != nullptr && start != nullptr && start->task == lease->task &&
                start->epoch == lease->expected_epoch + 1) {
                statements.push_back(fused_start(*lease, *start));
                statement_of[next] = statement_of[i];
                any_event = any_event || next != i + 1;
                i = next;
                continue;
            }
            const auto* end = std::get_if<task_transition>(&batch[i]);
            const auto* release = std::get_if<lease_release>(&batch[next]);
            if (end != nullptr && release != nullptr && release->task == end->task &&
                release->epoch == end->epoch) {
                statements.push_back(fused_end(*end, *release));
                statement_of[next] = statement_of[i];
                any_event = any_event || next != i + 1;
                i = next;
                continue;
            }
        }
        statements.push_back(
            std::visit([](const auto& one) { return statement_for(one); }, batch[i]));
    }
    for (std::size_t i : deferred_ready) {  // ready tasks that did not start at once
        statement_of[i] = statements.size();
        statements.push_back(statement_for(std::get<task_transition>(batch[i])));
    }
    if (any_event) {
        append_events_inserts(batch, statements);
    }
    return out;
}

}  // namespace sluice::store
