#pragma once

// The records the scheduler reads from and writes to its store (scheduler/run_store.hpp): jobs,
// runs, task instances, attempts, logs, events, variables, instances and backfills.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "scheduler/states.hpp"

namespace sluice::scheduler {

// ---- records ----

struct job_record {
    std::string name;
    std::string definition_hash;
    bool paused = false;
    // The newest logical time of a scheduled run of this job; catch-up starts after it.
    std::optional<core::time_point> last_scheduled_tick;
};

// One job of upsert_jobs.
struct job_upsert {
    std::string name;
    std::string definition_hash;
    bool initial_paused = false;
};

struct new_task_instance {
    std::string task;
    int max_tries = 1;
    task_state state = task_state::pending;  // or, in a started run, queued or running
    std::string lease_owner = {};            // running: leased by it until lease_expires_at,
    core::time_point lease_expires_at = {};  // epoch 1 (docs/architecture.md#group-commit)
};

struct new_run {
    std::string job;
    std::string run_key;  // scheduled_run_key / manual_run_key / unique_run_key
    trigger_kind trigger = trigger_kind::manual;
    std::string params_json = "{}";
    std::optional<core::time_point> logical_time;
    std::optional<core::time_point> data_interval_start;
    std::optional<core::time_point> data_interval_end;
    std::optional<core::backfill_id> backfill;
    core::time_point created_at;
    std::vector<new_task_instance> tasks;  // created with the run, in one transaction
    // Set: created running since this instant (its tasks' times too); unset: queued, all pending.
    std::optional<core::time_point> started_at = {};
    // Not 0: created only while the scheduler lease is held at this epoch and unexpired by the
    // store's clock (scheduled and backfill runs of a cluster node, docs/cluster.md#the-scheduler);
    // otherwise nothing is written and the creation comes back fenced.
    std::int64_t scheduler_epoch = 0;
};

struct create_run_result {
    core::run_id id;
    bool created = false;  // false: a run with this run_key already existed; nothing was written
    bool fenced = false;   // the scheduler lease moved on (new_run::scheduler_epoch); no id
};

struct run_record {
    core::run_id id;
    std::string job;
    std::string run_key;
    trigger_kind trigger = trigger_kind::manual;
    std::string params_json;
    std::optional<core::time_point> logical_time;
    std::optional<core::time_point> data_interval_start;
    std::optional<core::time_point> data_interval_end;
    std::optional<core::backfill_id> backfill;
    run_state state = run_state::queued;
    core::time_point created_at;
    std::optional<core::time_point> started_at;
    std::optional<core::time_point> finished_at;
};

struct task_instance_record {
    core::task_instance_id id;
    core::run_id run;
    std::string job;
    std::string task;
    task_state state = task_state::pending;
    int try_number = 0;  // 0 until the first attempt starts
    int max_tries = 1;
    std::optional<std::string> lease_owner;
    std::int64_t lease_epoch = 0;  // bumped by every lease_acquire; fences stale workers
    std::optional<core::time_point> lease_expires_at;
    std::optional<core::time_point> queued_at;
    std::optional<core::time_point> started_at;
    std::optional<core::time_point> finished_at;
    std::optional<core::time_point> next_attempt_at;  // set with up_for_retry
    std::optional<core::error_class> error_cls;
    std::optional<std::string> error_message;
    std::string metrics_json = "{}";
    // The values the task published (a JSON object of strings), written with its success and
    // kept until a later success replaces them (docs/task-kinds.md#values-between-tasks).
    std::string outputs_json = "{}";
    // Attempts cut off by a crash, a lost node or a kill at shutdown: tries that did not count
    // against max_tries (docs/configuration.md#interruptions).
    int interruptions = 0;
};

// An attempt that a later try superseded, kept in the attempt history; the task row itself
// holds the newest attempt.
struct attempt_record {
    core::task_instance_id task_instance;
    int try_number = 0;
    task_state state = task_state::failed;  // what the attempt ended as (e.g. up_for_retry)
    std::optional<core::time_point> started_at;
    std::optional<core::time_point> finished_at;
    std::optional<core::error_class> error_cls;
    std::optional<std::string> error_message;
    std::string metrics_json = "{}";
    // The process that held the attempt's lease when it was kept (its instance id), when known.
    std::optional<std::string> node;
};

// Newest first; `before` is the cursor returned by the previous page (exclusive).
struct run_filter {
    std::optional<std::string> job;
    std::optional<run_state> state;
    std::size_t limit = 50;
    std::optional<core::run_id> before;
};

struct run_page {
    std::vector<run_record> runs;
    std::optional<core::run_id> next_cursor;  // absent on the last page
};

// A page of a job's runs × tasks grid (the admin page's grid view, docs/api.md): the runs newest
// first, and the state and try of each of their task instances.
struct grid_task {
    core::run_id run;
    std::string task;
    task_state state = task_state::pending;
    int try_number = 0;
};

struct grid_page {
    std::vector<run_record> runs;
    std::vector<grid_task> tasks;             // by run (newest first), then task instance id
    std::optional<core::run_id> next_cursor;  // absent on the last page
};

struct log_line {
    core::time_point at;
    std::string stream;  // "stdout" | "stderr" | "sluice"
    std::string text;
};

struct stored_log_line {
    std::int64_t seq = 0;  // increasing in append order across all task instances
    int try_number = 0;
    log_line line;
};

struct event_record {
    std::int64_t id = 0;  // increasing in append order; read_events pages on it
    core::time_point at;
    std::string kind;  // "run.state", "task.state", "job.paused", ...
    std::optional<std::string> job;
    std::optional<core::run_id> run;
    std::optional<std::string> task;
    std::string payload_json = "{}";
    std::string actor;  // "scheduler", "api:TOKEN_NAME", ...
};

struct variable_record {
    std::string key;
    std::string value;
    bool secret = false;  // secret values are never logged or returned in listings
    core::time_point updated_at;
};

struct instance_record {
    std::string id;
    std::string info_json = "{}";
    core::time_point started_at;
    core::time_point heartbeat_at;
};

// ---- backfills ----

struct new_backfill {
    std::string job;
    core::time_point range_start;
    core::time_point range_end;
    backfill_order order = backfill_order::oldest_first;
    int max_active_runs = 1;
    reprocess_mode reprocess = reprocess_mode::none;
    std::int64_t planned = 0;        // intervals in the range when the backfill was created
    std::string params_json = "{}";  // the params given to every run, as passed (JSON object)
    std::string actor;
    core::time_point created_at;
};

// A backfill's runs by state: every run it created, in the state it is in now (runs removed by
// retention stay counted).
struct backfill_run_counts {
    std::int64_t created = 0;  // every run of the backfill
    std::int64_t queued = 0;
    std::int64_t running = 0;
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;  // failed or timed_out
    std::int64_t canceled = 0;
};

struct backfill_record {
    core::backfill_id id;
    std::string job;
    core::time_point range_start;
    core::time_point range_end;
    backfill_order order = backfill_order::oldest_first;
    int max_active_runs = 1;
    reprocess_mode reprocess = reprocess_mode::none;
    backfill_state state = backfill_state::running;
    std::int64_t planned = 0;
    // Intervals dealt with (run created or skipped), in the backfill's order; every step is
    // fenced on it, so a replayed step cannot count twice.
    std::int64_t steps = 0;
    std::int64_t skipped = 0;
    // The logical time of the newest step: where the backfill continues after a restart.
    std::optional<core::time_point> cursor;
    // The params given to every run, as passed (a JSON object of strings); each run resolves
    // them against the job's params when it is created, so defaults follow a reload.
    std::string params_json = "{}";
    std::string actor;
    core::time_point created_at;
    core::time_point updated_at;
    backfill_run_counts runs;
};

// One step: the interval whose logical time is `cursor` is dealt with, by creating `run`
// (idempotent on its run_key) or by skipping it; applied only while the backfill is running and
// has taken exactly `expected_steps` steps.
struct backfill_step {
    core::backfill_id backfill;
    std::int64_t expected_steps = 0;
    core::time_point cursor;
    std::optional<new_run> run;  // nullopt: the interval is skipped
    core::time_point at;
};

struct backfill_step_result {
    bool applied = false;  // false: the backfill moved on or is no longer running
    bool fenced = false;   // not applied: the run's scheduler_epoch is no longer the lease's
    std::optional<create_run_result> run;
};

// Newest first.
struct backfill_filter {
    std::optional<std::string> job;
    std::size_t limit = 50;
};

}  // namespace sluice::scheduler
