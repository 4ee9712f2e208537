#pragma once

// What the scheduler needs persisted (docs/architecture.md#durability). The scheduler owns this
// interface; store/ implements it for SQLite and PostgreSQL and both pass one conformance suite.
// Every call is blocking (it may do disk or network I/O): call it from the blocking pool, never
// from the control loop. Implementations are safe to call from several threads at once.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "scheduler/retention.hpp"
#include "scheduler/states.hpp"
#include "scheduler/store_records.hpp"

namespace sluice::scheduler {

// ---- transitions: applied in batches, each one fenced ----

// A run moves `from` -> `to` only if it is still in `from`. Running sets started_at, a terminal
// state sets finished_at.
struct run_transition {
    core::run_id run;
    run_state from = run_state::queued;
    run_state to = run_state::running;
    core::time_point at;
};

// A task instance moves `from` -> `to` only if it is still in `from` under lease `epoch`.
// queued sets queued_at; running sets started_at (and try_number when given); a terminal state
// sets finished_at. Optional fields overwrite the stored values only when present.
struct task_transition {
    core::task_instance_id task;
    task_state from = task_state::pending;
    std::int64_t epoch = 0;
    task_state to = task_state::queued;
    core::time_point at;
    std::optional<int> try_number;
    std::optional<core::error_class> error_cls;
    std::optional<std::string> error_message;
    std::optional<core::time_point> next_attempt_at;
    std::optional<std::string> metrics_json;
    // A JSON object of strings: the task's published values, replaced as a whole (only with a
    // success, so the outputs and the success commit together).
    std::optional<std::string> outputs_json;
    // The attempt that ended was interrupted: the task's interruptions count one more.
    bool interrupted = false;
};

// Copies the task's current attempt (try `try_number`: its times, error and metrics as stored
// by the transitions before this one in the batch; a store may run the batch's same-shaped
// updates together where the first of them stands, so put an archive that must read the row
// before its update ahead of every update in the batch) into the attempt history, ending as `state`
// at `at`, before another try supersedes it: an attempt to be retried, one interrupted by a
// restart, a failed task rerun. Not a fence: always applied; a try already kept stays as it is.
struct attempt_archive {
    core::task_instance_id task;
    int try_number = 0;
    task_state state = task_state::up_for_retry;
    core::time_point at;
    // The process that ran the try (its instance id); absent: the row's lease owner, as when a
    // restarted daemon keeps the try of one that died.
    std::optional<std::string> node = std::nullopt;
};

// Takes the lease when the stored epoch is still `expected_epoch` and the lease is free, expired
// (at `now`) or already ours; the new epoch is expected_epoch + 1.
struct lease_acquire {
    core::task_instance_id task;
    std::int64_t expected_epoch = 0;
    std::string owner;
    core::time_point expires_at;
    core::time_point now;
};

// Extends our lease; conflicts once another owner took it over (the epoch moved on).
struct lease_renew {
    core::task_instance_id task;
    std::int64_t epoch = 0;
    std::string owner;
    core::time_point expires_at;
};

// Gives the lease up (owner and expiry cleared, the epoch stays so old writers stay fenced).
struct lease_release {
    core::task_instance_id task;
    std::int64_t epoch = 0;
    std::string owner;
};

// An audit event written in the same transaction as the transitions beside it; always applied.
struct new_event {
    core::time_point at;
    std::string kind;
    std::optional<std::string> job;
    std::optional<core::run_id> run;
    std::optional<std::string> task;
    std::string payload_json = "{}";
    std::string actor;
};

using transition = std::variant<run_transition, task_transition, lease_acquire, lease_renew,
                                lease_release, new_event, attempt_archive>;

enum class transition_outcome { applied, conflict };

// ---- run creation in write batches (docs/operations.md, "Group commit") ----

// A run to create in a write batch: idempotent on run_key like create_run (a key already stored,
// or taken by an earlier creation of the same batch, creates nothing). `events` are written only
// when the run is created, in the same transaction, with their `run` set to the new id.
struct run_creation {
    new_run run;
    std::vector<new_event> events;
};

// What one creation came to: a new run with its task instances as created (new_run::tasks'
// order), or the run that already held the key (created false, no tasks, nothing written).
struct created_run {
    core::run_id id;
    bool created = false;
    std::vector<task_instance_record> tasks;
    bool fenced = false;  // create_run_result::fenced
};

// One write batch's outcomes: one per creation and one per transition, each in order.
struct batch_outcomes {
    std::vector<created_run> runs;
    std::vector<transition_outcome> transitions;
};

// ---- the store ----

class run_store {
public:
    virtual ~run_store() = default;

    // Brings the schema to the newest version; each migration applies once; a no-op when current.
    virtual core::result<void> migrate() = 0;
    // The newest applied schema version (0 before migrate()).
    virtual core::result<int> schema_version() = 0;

    // Creates the job or updates its definition hash; `initial_paused` applies only to a new job,
    // so a pause set through the API survives restarts and config reloads.
    virtual core::result<job_record> upsert_job(std::string_view name,
                                                std::string_view definition_hash,
                                                bool initial_paused) = 0;
    // upsert_job for every job (distinct names) in one transaction, with multi-row statements:
    // what startup registers. The records come back in the order of `jobs`. The default calls
    // upsert_job for each.
    virtual core::result<std::vector<job_record>> upsert_jobs(std::span<const job_upsert> jobs);
    // False when the job is unknown.
    virtual core::result<bool> set_paused(std::string_view name, bool paused) = 0;
    virtual core::result<std::optional<job_record>> get_job(std::string_view name) = 0;
    virtual core::result<std::vector<job_record>> list_jobs() = 0;

    // Idempotent on run_key: the run and its task instances (pending) in one transaction, or the
    // id of the run that already holds the key. A scheduled run advances the job's last tick.
    virtual core::result<create_run_result> create_run(const new_run& run) = 0;
    virtual core::result<std::optional<run_record>> get_run(core::run_id id) = 0;
    virtual core::result<run_page> list_runs(const run_filter& filter) = 0;
    virtual core::result<std::vector<task_instance_record>> list_task_instances(
        core::run_id run) = 0;
    virtual core::result<std::optional<task_instance_record>> get_task_instance(
        core::task_instance_id id) = 0;
    // The superseded attempts of a run's tasks (attempt_archive), by task instance then try.
    virtual core::result<std::vector<attempt_record>> list_task_attempts(core::run_id run) = 0;
    // The runs of `job` older than `before` (newest first, at most `limit`) with their task
    // instances' states and tries: two indexed reads, whatever the history's length.
    virtual core::result<grid_page> job_grid(std::string_view job, std::size_t limit,
                                             std::optional<core::run_id> before) = 0;
    // Runs still queued or running, oldest first: what startup reconciliation looks at.
    virtual core::result<std::vector<run_record>> list_unfinished_runs() = 0;
    // Every task instance (finished ones too) of the runs still queued or running, ordered by run
    // then id: startup reconciliation reads them in one query, not one per run.
    virtual core::result<std::vector<task_instance_record>> list_tasks_of_unfinished_runs() = 0;

    // Applies the whole batch in one transaction; one outcome per transition, in order. A conflict
    // changes nothing for that transition and does not abort the others. An error means nothing
    // of the batch was committed (or, for a lost connection, it is unknown: re-read and retry).
    virtual core::result<std::vector<transition_outcome>> apply(
        std::span<const transition> batch) = 0;
    // Creates the runs (then their events), then applies the transitions (as apply()), all in one
    // transaction; one outcome each, in order. A duplicate run_key resolves to the run holding
    // it and does not abort the others. The default creates each run in a transaction of its
    // own before apply(batch): for stores and fakes without a batched form.
    virtual core::result<batch_outcomes> write_batch(std::span<const run_creation> creations,
                                                     std::span<const transition> batch);

    virtual core::result<void> append_task_log(core::task_instance_id task, int try_number,
                                               std::span<const log_line> lines) = 0;
    // A running attempt's metrics so far (a copy's progress), shown while it runs; applied only
    // while the task is still running try `try_number` (its end writes the final metrics).
    virtual core::result<void> put_running_metrics(core::task_instance_id task, int try_number,
                                                   std::string_view metrics_json) = 0;
    // Lines of one task instance (all tries) with seq > after_seq, in order, at most `limit`.
    virtual core::result<std::vector<stored_log_line>> read_task_log(core::task_instance_id task,
                                                                     std::int64_t after_seq,
                                                                     std::size_t limit) = 0;

    virtual core::result<std::int64_t> append_event(const new_event& event) = 0;
    // Events with id > after_id, oldest first, optionally of one kind, at most `limit`.
    virtual core::result<std::vector<event_record>> read_events(
        std::int64_t after_id, std::optional<std::string_view> kind, std::size_t limit) = 0;
    // Events with id < before_id (every event when nullopt), newest first, optionally of one
    // kind, at most `limit`: where a reader starts that wants the latest first.
    virtual core::result<std::vector<event_record>> read_events_before(
        std::optional<std::int64_t> before_id, std::optional<std::string_view> kind,
        std::size_t limit) = 0;
    // The newest event's id (0 when there is none): where a reader that wants only what comes
    // next starts. Events become visible in id order, so nothing older appears after it.
    virtual core::result<std::int64_t> last_event_id() = 0;

    virtual core::result<std::optional<variable_record>> get_variable(std::string_view key) = 0;
    virtual core::result<void> put_variable(const variable_record& variable) = 0;
    // False when the key did not exist.
    virtual core::result<bool> delete_variable(std::string_view key) = 0;
    virtual core::result<std::vector<variable_record>> list_variables() = 0;

    virtual core::result<std::optional<std::string>> get_checkpoint(std::string_view job,
                                                                    std::string_view task,
                                                                    std::string_view key) = 0;
    virtual core::result<void> put_checkpoint(std::string_view job, std::string_view task,
                                              std::string_view key, std::string_view value_json,
                                              core::time_point at) = 0;

    // Every process that runs the engine registers its instance (its lease owner name) at
    // startup and heartbeats while alive; registering forgets instances silent for a week.
    virtual core::result<void> register_instance(const instance_record& instance) = 0;
    // False when the instance is not registered.
    virtual core::result<bool> heartbeat_instance(std::string_view id, core::time_point at) = 0;
    virtual core::result<std::vector<instance_record>> list_instances() = 0;

    // Backfills. The defaults refuse (permanent), for stores and fakes that keep none.
    virtual core::result<core::backfill_id> create_backfill(const new_backfill& backfill);
    // With its run counts.
    virtual core::result<std::optional<backfill_record>> get_backfill(core::backfill_id id);
    virtual core::result<std::vector<backfill_record>> list_backfills(
        const backfill_filter& filter);
    // Running and paused backfills, oldest first: what startup resumes.
    virtual core::result<std::vector<backfill_record>> list_unfinished_backfills();
    // Moves the backfill to `to` when it is in one of `from`; false otherwise.
    virtual core::result<bool> set_backfill_state(core::backfill_id id,
                                                  std::span<const backfill_state> from,
                                                  backfill_state to, core::time_point at);
    // Applies one step in one transaction (the run and the backfill's progress together).
    virtual core::result<backfill_step_result> apply_backfill_step(const backfill_step& step);
    // The runs of `job` whose logical time is in [first, last], by logical time then id: what
    // reprocess decisions look at.
    virtual core::result<std::vector<run_record>> list_runs_by_logical_time(std::string_view job,
                                                                            core::time_point first,
                                                                            core::time_point last);

    // Retention (scheduler/retention.hpp). prune_batch removes at most `limit` rows of each kind
    // in one short transaction and says how many it removed: call it until it removes nothing.
    // count_prunable counts what the batches would remove in all, removing nothing. The defaults
    // remove and count nothing, for stores and fakes that keep no history.
    virtual core::result<prune_counts> prune_batch(const retention_cutoffs& cutoffs,
                                                   std::int64_t limit);
    virtual core::result<prune_counts> count_prunable(const retention_cutoffs& cutoffs);
};

inline core::result<std::vector<job_record>> run_store::upsert_jobs(
    std::span<const job_upsert> jobs) {
    std::vector<job_record> out;
    out.reserve(jobs.size());
    for (const job_upsert& j : jobs) {
        auto r = upsert_job(j.name, j.definition_hash, j.initial_paused);
        if (!r) {
            return r.error();
        }
        out.push_back(std::move(*r));
    }
    return out;
}

inline core::result<batch_outcomes> run_store::write_batch(std::span<const run_creation> creations,
                                                           std::span<const transition> batch) {
    batch_outcomes out;
    for (const run_creation& c : creations) {
        if (c.run.started_at) {
            return core::error::permanent("this run store cannot create runs already started");
        }
        auto r = create_run(c.run);
        if (!r) {
            return r.error();
        }
        created_run& one = out.runs.emplace_back(created_run{r->id, r->created, {}});
        if (!r->created) {
            continue;
        }
        auto tasks = list_task_instances(r->id);
        if (!tasks) {
            return tasks.error();
        }
        one.tasks = std::move(*tasks);
        for (new_event e : c.events) {
            e.run = r->id;
            if (auto appended = append_event(e); !appended) {
                return appended.error();
            }
        }
    }
    if (!batch.empty()) {
        auto applied = apply(batch);
        if (!applied) {
            return applied.error();
        }
        out.transitions = std::move(*applied);
    }
    return out;
}

namespace detail {
inline core::error no_backfills() {
    return core::error::permanent("this run store does not keep backfills");
}
}  // namespace detail

inline core::result<core::backfill_id> run_store::create_backfill(const new_backfill&) {
    return detail::no_backfills();
}
inline core::result<std::optional<backfill_record>> run_store::get_backfill(core::backfill_id) {
    return detail::no_backfills();
}
inline core::result<std::vector<backfill_record>> run_store::list_backfills(
    const backfill_filter&) {
    return detail::no_backfills();
}
inline core::result<std::vector<backfill_record>> run_store::list_unfinished_backfills() {
    return detail::no_backfills();
}
inline core::result<bool> run_store::set_backfill_state(core::backfill_id,
                                                        std::span<const backfill_state>,
                                                        backfill_state, core::time_point) {
    return detail::no_backfills();
}
inline core::result<backfill_step_result> run_store::apply_backfill_step(const backfill_step&) {
    return detail::no_backfills();
}
inline core::result<std::vector<run_record>> run_store::list_runs_by_logical_time(
    std::string_view, core::time_point, core::time_point) {
    return detail::no_backfills();
}

inline core::result<prune_counts> run_store::prune_batch(const retention_cutoffs&, std::int64_t) {
    return prune_counts{};
}
inline core::result<prune_counts> run_store::count_prunable(const retention_cutoffs&) {
    return prune_counts{};
}

}  // namespace sluice::scheduler
