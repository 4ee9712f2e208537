#pragma once

// The scheduler engine (docs/architecture.md: Threads, States, Durability): the timer heap over
// job schedules, catch-up, concurrency policies, manual triggers, the planner and dispatcher,
// retries, timeouts, cancel, startup reconciliation and graceful shutdown, all driven on the
// control loop (the io_context the daemon runs). Task bodies and store calls run on the
// engine's own thread pools; every transition is submitted through `submit` (daemon binds
// store::store_writer, group commit) and is acted on only after it committed (write-ahead).
//
// Lifecycle: construct; set_event_observer (optional); start(); ... ; shutdown(); destroy.
// Destroying an engine without shutdown() is only allowed once the loop has stopped (it is what
// a crash looks like to the store: runs stay `running` and the next start reconciles them).
//
// Thread-safety: every public member may be called from any thread. The blocking forms (no
// callback) wait on the loop and must not be called from the loop thread; the async_ forms
// complete on the loop thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "config/spec.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "scheduler/attempt_bridge.hpp"
#include "scheduler/backfill.hpp"
#include "scheduler/run_store.hpp"

namespace boost::asio {
class io_context;
}

namespace sluice::scheduler {

using transitions_done = std::function<void(core::result<std::vector<transition_outcome>>)>;
// Commits transitions together and reports one outcome each, on any thread (the engine posts
// back to its loop). daemon/ binds store::store_writer::submit.
using transition_submitter = std::function<void(std::vector<transition>, transitions_done)>;
using runs_created = std::function<void(core::result<std::vector<created_run>>)>;
// Creates runs in the same group commit (run_store::write_batch), one outcome each, reported on
// any thread. daemon/ binds store::store_writer::submit_runs.
using run_submitter = std::function<void(std::vector<run_creation>, runs_created)>;

struct engine_dependencies {
    const config::sluice_config& config;  // outlives the engine; job specs are referenced
    run_store& store;                     // blocking calls only from the engine's store thread
    transition_submitter submit;
    runner_resolver resolve_runner;
    const core::clock& clock;
    boost::asio::io_context& loop;
    // Optional: what a backfill dry run shows per task (scheduler/backfill.hpp).
    backfill_bounds_fn backfill_bounds = {};
    // Where runs are created (manual triggers, ticks, catch-up, trigger_job children). Unset:
    // each submission is one run_store::write_batch call of its own on the engine's store thread.
    run_submitter submit_runs = {};
};

struct engine_options {
    // The lease owner name of this process, unique to it (the daemon uses host:pid:nonce):
    // reconciliation takes over the leases it owns, those that expired, and those whose owner
    // lease_owner_gone proves dead; a live owner's attempts are never taken over.
    std::string instance_id = "sluice";
    // What this process's instance row holds (JSON), for other processes' lease_owner_gone.
    std::string instance_info_json = "{}";
    // True: the engine registers this process's instance row at start and heartbeats it with
    // the leases. False: the row is kept by the daemon's node membership on the store's clock
    // (docs/cluster.md); the engine only reads the instance rows.
    bool keep_instance_row = true;
    // True when the process that owns a lease, described by its instance row's info ("" when it
    // has no row), provably runs no more: its unexpired leases are taken over at once. Unset:
    // never, and such attempts are left until their lease expires.
    std::function<bool(std::string_view owner, std::string_view info_json)> lease_owner_gone;
    // False: the runs left unfinished in the store are not touched. `sluice run` drives only the
    // run it creates; the unfinished runs belong to a daemon that may be running them.
    bool reconcile_unfinished = true;
    // How long a lease outlives its last heartbeat; a peer may rescue the attempt after that.
    std::chrono::milliseconds lease_duration{std::chrono::seconds(60)};
    // Leases (and the instance row, with keep_instance_row) are renewed this often (well inside
    // lease_duration).
    std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(15)};
    // The schedule timer re-reads the wall clock at least this often, so a clock that was set
    // forward is noticed without waiting for a long-armed timer.
    std::chrono::milliseconds max_timer_sleep{std::chrono::seconds(30)};
    // Task log lines buffered per attempt before they are written to the store.
    std::size_t log_flush_lines = 64;
    // The longest a buffered log line waits before it is written (checked when lines arrive).
    std::chrono::milliseconds log_flush_interval{std::chrono::milliseconds(200)};
    // False: no schedule timer and no catch-up; only manual triggers (and reconciled runs)
    // execute. `sluice run` uses this to run one job in the foreground.
    bool run_schedules = true;
    // False: stored backfills are neither continued nor created here (`sluice run`, which
    // must not drive a daemon's backfills); their runs still reconcile like any other.
    bool run_backfills = true;
    // True (a cluster node, `serve`): scheduled and backfill runs are created only while this
    // process holds the scheduler lease (docs/cluster.md#the-scheduler), as engine::cluster_beat
    // reports it, and each carries the lease's epoch so the store refuses it once the lease
    // moved on. False: always, unfenced (`sluice run`, which creates none, and tests).
    bool elected_scheduler = false;
    // Overrides config.shutdown_grace when set (tests).
    std::optional<std::chrono::milliseconds> shutdown_grace;
    // Seeds retry jitter; nullopt = random.
    std::optional<std::uint64_t> jitter_seed;
};

// What a cluster node's claim of the scheduler lease came to (docs/cluster.md#the-scheduler).
struct scheduler_grant {
    std::int64_t epoch = 0;  // what the runs it creates carry (new_run::scheduler_epoch)
    // The lease is ours until then at the latest: counted from before the claim was sent, so it
    // ends no later than the expiry the store wrote.
    std::chrono::steady_clock::time_point until{};
};

// Why a trigger was refused; the HTTP layer maps unknown_job to 404, paused and shutting_down to
// 409, bad_params to 400, store_failure to 503.
enum class trigger_errc { unknown_job, paused, bad_params, shutting_down, store_failure };

struct trigger_error {
    trigger_errc code = trigger_errc::store_failure;
    std::string message;
};

[[noreturn]] void throw_exception_from_error(const trigger_error& e,
                                             const boost::source_location& loc);

struct trigger_request {
    std::string job;
    std::map<std::string, std::string> params;   // as text; checked against the job's params
    std::optional<std::string> idempotency_key;  // the same key returns the same run
    std::string actor = "api";                   // recorded in events ("api:TOKEN", "cli")
    // Set by trigger_job (the parent run's); unset: the trigger time is the logical time and
    // both ends of the data interval.
    std::optional<core::sys_seconds> logical_time;
    std::optional<core::sys_seconds> data_interval_start;
    std::optional<core::sys_seconds> data_interval_end;
};

struct trigger_response {
    core::run_id run;
    bool created = false;  // false: the idempotency key named an existing run
};

using trigger_result = boost::system::result<trigger_response, trigger_error>;

// What the daemon and the HTTP layer can ask about a job without touching the store.
struct job_status {
    std::string name;
    bool paused = false;
    std::optional<core::sys_seconds> next_fire;  // nullopt: no schedule, paused or exhausted
    int active_runs = 0;
    int waiting_runs = 0;  // queued behind max_active_runs
};

// The outcome of an API operation on a run (retry, mark): the HTTP layer maps not_found to 404,
// conflict to 409 and invalid to 400. Store failures come back as the result's error (503).
struct run_op_status {
    enum class code_t { ok, not_found, conflict, invalid };
    code_t code = code_t::ok;
    std::string message;             // for the operator; empty when ok
    std::vector<std::string> tasks;  // retry: the tasks that will run again
};

// What a reconfigure changed; job names sorted.
struct reload_summary {
    std::vector<std::string> added;
    std::vector<std::string> changed;
    std::vector<std::string> removed;
    // Settings that differ but apply only after a restart (workers, pools, shutdown_grace).
    std::vector<std::string> restart_needed;
};

// A backfill over [from, to) (scheduler/backfill.hpp, docs/etl.md "Backfills").
struct backfill_request {
    std::string job;
    core::sys_seconds from{};
    core::sys_seconds to{};
    backfill_order order = backfill_order::oldest_first;
    int max_active_runs = 1;  // 1..max_backfill_active_runs
    reprocess_mode reprocess = reprocess_mode::none;
    bool dry_run = false;  // list the runs it would create; create nothing
    // Passed to every run, checked like a trigger's (trigger_params.hpp).
    std::map<std::string, std::string> params;
    std::string actor = "api";
};

// One interval of a dry run.
struct planned_backfill_run {
    backfill_interval interval;
    interval_status existing = interval_status::no_run;  // what the job's runs of it say
    bool skip = false;                                   // the reprocess mode skips it
    std::vector<task_read_bounds> bounds;                // from backfill_bounds, when bound
};

struct backfill_response {
    std::optional<backfill_record> backfill;  // the backfill created (not a dry run)
    std::vector<planned_backfill_run> runs;   // a dry run's intervals, in the backfill's order
};

// The HTTP layer maps unknown_job to 404, bad_request to 400, shutting_down to 409 and
// store_failure to 503.
enum class backfill_errc { unknown_job, bad_request, shutting_down, store_failure };

struct backfill_error {
    backfill_errc code = backfill_errc::store_failure;
    std::string message;
};

[[noreturn]] void throw_exception_from_error(const backfill_error& e,
                                             const boost::source_location& loc);

using backfill_result = boost::system::result<backfill_response, backfill_error>;

enum class backfill_action { pause, resume, cancel };

// Counters read on the loop, for /metrics and /readyz.
struct engine_stats {
    bool started = false;
    bool shutting_down = false;
    int running_tasks = 0;  // attempts executing
    int queued_tasks = 0;   // queued task instances waiting for a worker slot
    int active_runs = 0;
};

class engine {
public:
    engine(engine_dependencies deps, engine_options options = {});
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Called on the loop after every committed transition (run.state, task.state, ...) and
    // every API action; set before start().
    void set_event_observer(std::function<void(const new_event&)> observer);

    // Registers jobs in the store, reconciles the runs left unfinished, fires catch-up ticks and
    // arms the schedule timer. Fails on a store error or a job whose DAG is invalid.
    void async_start(std::function<void(core::result<void>)> done);
    core::result<void> start();

    // Stops intake (ticks, triggers, new attempts), lets running attempts finish for up to the
    // shutdown grace, then stops the rest (stop_signal shutdown) and records them interrupted:
    // up_for_retry, so the next start retries them at once (or failed without tries left).
    // Completes once nothing is running and every write committed.
    void async_shutdown(std::function<void()> done);
    void shutdown();

    // A manual run. Paused jobs refuse triggers.
    void async_trigger(trigger_request request, std::function<void(trigger_result)> done);
    trigger_result trigger(trigger_request request);

    // Cancels a queued or running run: running attempts are stopped (stop_signal canceled),
    // everything not yet finished is canceled, the run ends `canceled`. False when the run is
    // unknown or already finished.
    void async_cancel(core::run_id run, std::string actor,
                      std::function<void(core::result<bool>)> done);
    core::result<bool> cancel(core::run_id run, std::string actor = "api");

    // Pauses or unpauses a job (kept in the store). Unpausing fires what `catchup` says about
    // the ticks missed while paused. False when the job is unknown.
    void async_set_paused(std::string job, bool paused, std::string actor,
                          std::function<void(core::result<bool>)> done);
    core::result<bool> set_paused(const std::string& job, bool paused, std::string actor = "api");

    // Completes once the run finished (at once when it already has) with its final record.
    void async_wait_run(core::run_id run, std::function<void(core::result<run_record>)> done);
    core::result<run_record> wait_run(core::run_id run);

    // A snapshot of every configured job.
    void async_jobs(std::function<void(std::vector<job_status>)> done);
    std::vector<job_status> jobs();

    // Reruns a finished run's failed, upstream_failed and canceled tasks and every task
    // downstream of them; successful tasks keep their result. The run goes back to queued and
    // then runs under max_active_runs as usual; each rerun task gets one more try plus its retry
    // policy's retries. conflict: the run is still active, succeeded entirely, or its job's
    // tasks changed. (engine_api_ops.cpp)
    void async_retry_run(core::run_id run, std::string actor,
                         std::function<void(core::result<run_op_status>)> done);
    // Sets a task instance to success or failed by hand. In an active run the task must not be
    // running (cancel the run, or wait); downstream tasks are then planned as if it had ended
    // so. In a finished run the run's state is recomputed from its tasks (use retry afterwards
    // to rerun what depends on the task).
    void async_mark_task(core::run_id run, std::string task, task_state to, std::string actor,
                         std::function<void(core::result<run_op_status>)> done);
    void async_stats(std::function<void(engine_stats)> done);

    // Applies a reloaded configuration's jobs (SIGHUP) without disturbing runs: added jobs are
    // registered in the store and fire from now on (no tick before the reload is due, whatever
    // `catchup` says); removed jobs stop firing and refuse triggers while their queued and
    // running runs finish; a changed job's new definition applies to runs created from now on
    // (a changed schedule or time zone counts from now, like a restart with a new schedule),
    // and runs already created keep the definition they started with. The paused state stays
    // what the store holds; `paused:` of an added job is its initial state. Connections and
    // variables used by new attempts come from `next`. Fails, changing nothing, when a job's
    // DAG, time zone or schedule is invalid or the store cannot register the jobs.
    void async_reconfigure(std::shared_ptr<const config::sluice_config> next,
                           std::function<void(core::result<reload_summary>)> done);
    // Starts a backfill (or plans one, dry_run): its runs are created one interval at a time
    // as its max_active_runs allow, below scheduled and manual runs in the dispatcher; it is
    // persisted and continues after a restart. A paused job creates no backfill runs until it
    // is unpaused. (engine_backfills.cpp)
    void async_create_backfill(backfill_request request, std::function<void(backfill_result)> done);
    backfill_result create_backfill(backfill_request request);
    // pause: no new runs (running ones finish); resume: continue; cancel: no new runs, and the
    // backfill's queued and running runs are canceled. not_found: no such backfill; conflict:
    // it is finished, or already in the asked state. Returns the backfill's new state in
    // `message` when ok.
    void async_backfill_action(core::backfill_id id, backfill_action action, std::string actor,
                               std::function<void(core::result<run_op_status>)> done);
    core::result<run_op_status> backfill_action_now(core::backfill_id id, backfill_action action,
                                                    std::string actor = "api");

    // A cluster node (engine_options::elected_scheduler) reports every claim of the scheduler
    // lease: the grant, or nullopt when another node holds it. A grant after none, or of a new
    // epoch, makes this node the scheduler: it reads the jobs' newest ticks and the unfinished
    // backfills from the store, catches up as a start does and drives the backfills. Each report
    // also takes up what other nodes changed in the store since the last: jobs paused or
    // unpaused, and on the scheduler, backfills created, paused, resumed or canceled
    // (engine_cluster.cpp).
    void cluster_beat(std::optional<scheduler_grant> grant);

    // Runs and task instances are read from the store directly (run_store::get_run, list_runs,
    // list_task_instances): those reads do not need the engine.

    class impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace sluice::scheduler
