#pragma once

// The engine's state and its handlers. Internal to scheduler/: include only from engine_*.cpp.
// Everything here runs on the control loop (one thread) unless a comment says otherwise, so
// there is no locking; blocking work goes to store_pool_ (store calls, in submission order) or
// task_pool_ (attempts), and results are posted back.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "scheduler/backfill.hpp"
#include "scheduler/catchup.hpp"
#include "scheduler/cron/cron_expression.hpp"
#include "scheduler/dispatch_queue.hpp"
#include "scheduler/engine.hpp"
#include "scheduler/job_launcher.hpp"
#include "scheduler/planner.hpp"
#include "scheduler/retry_decision.hpp"
#include "scheduler/trigger_params.hpp"

namespace spdlog {
class logger;
}

namespace sluice::scheduler {

// A task instance transition without the optional fields.
inline task_transition task_move(core::task_instance_id id, task_state from, std::int64_t epoch,
                                 task_state to, core::time_point at) {
    task_transition t;
    t.task = id;
    t.from = from;
    t.epoch = epoch;
    t.to = to;
    t.at = at;
    return t;
}

// True when no transition of a committed batch conflicted.
inline bool all_applied(const std::vector<transition_outcome>& outcomes) {
    return std::none_of(outcomes.begin(), outcomes.end(),
                        [](transition_outcome o) { return o == transition_outcome::conflict; });
}

// {"from":..,"to":..,"try":..}: the payload of a state event.
std::string state_payload(std::string_view from, std::string_view to, int try_number = 0);
// The payload of a run's queued -> running event; a scheduled run's also says how late it
// started (sluice_schedule_lateness_seconds).
std::string run_started_payload(trigger_kind trigger,
                                const std::optional<core::time_point>& logical_time,
                                core::time_point started_at);

// One version of a job's definition. A run keeps the version it was created with, so a reload
// (engine_reload.cpp) that changes the job never changes a run in flight.
struct job_definition {
    // Keeps the configuration `spec` points into alive; empty for the configuration the engine
    // was constructed with (engine_dependencies::config outlives the engine).
    std::shared_ptr<const config::sluice_config> owner;
    const config::sluice_config* config = nullptr;
    const config::job_spec* spec = nullptr;
    run_graph graph;
};

struct job_entry {
    // The current definition: what new runs are created with. `spec` and `graph` alias it.
    std::shared_ptr<const job_definition> definition;
    const config::job_spec* spec = nullptr;
    run_graph graph;
    // Removed by a reload: no ticks, no triggers, no backfill runs, not listed; the entry stays
    // (runs and backfills point at it), and a reload that adds the job again reuses it.
    bool removed = false;
    std::optional<cron_expression> cron;  // nullopt: manual triggers only
    const date::time_zone* zone = nullptr;
    bool paused = false;
    // Ticks at or before this instant are accounted for (fired, skipped or never due): the later
    // of the newest recorded tick and when the schedule took its current form (see catchup.hpp).
    core::sys_seconds since{};
    std::optional<core::sys_seconds> next_fire;  // the key of this job in the timer heap
    std::set<core::run_id> active;               // running, or being started
    std::deque<core::run_id> waiting;            // queued behind max_active_runs, oldest first
    int creating = 0;                            // scheduled runs whose create_run is in flight
    // Runs created already started whose creation is in flight: they count against
    // max_active_runs like the active ones (engine_create_runs.cpp).
    int starting = 0;
};

// The job's ticks as plan_ticks and previous_tick walk them (catchup.hpp); `job` outlives the
// function.
inline next_tick_fn next_of(const job_entry& job) {
    return [&job](core::sys_seconds after) { return job.cron->next(after, job.zone); };
}

inline core::sys_seconds floor_seconds(core::time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t);
}

// A job's row in the store and since when its schedule has had its current form (ticks at or
// before are not due): a new or changed schedule counts from `now`.
struct registered_job {
    job_record record;
    core::sys_seconds defined_since;
};
// Creates or updates the jobs' rows in one batch (engine_startup.cpp), in the order of `jobs`.
// Blocking: on the store thread.
core::result<std::vector<registered_job>> register_jobs(
    run_store& store, std::span<const config::job_spec* const> jobs, core::time_point now);
// Ticks at or before the result are accounted for, as the store records the job (`since` of
// job_entry): the later of its newest scheduled tick and when its schedule took its form; nullopt
// when the stored schedule is not `spec`'s (another node registered a different one).
std::optional<core::sys_seconds> stored_since(const job_record& record,
                                              const config::job_spec& spec);

struct live_task {
    std::size_t node = 0;
    const config::task_spec* spec = nullptr;
    core::task_instance_id id;
    task_state state = task_state::pending;  // the newest state submitted to the store
    int try_number = 0;
    int max_tries = 1;
    int interruptions = 0;  // tries cut off by a crash or a kill at shutdown (not counted)
    std::int64_t epoch = 0;
    std::optional<core::time_point> next_attempt_at;
    bool busy = false;     // a write about this task is in flight: nothing else acts on it
    bool running = false;  // an attempt executes (or is about to) on the task pool
    std::shared_ptr<attempt_stop> stop;                // while running
    std::unique_ptr<boost::asio::steady_timer> timer;  // retry wait, or the attempt's timeout
    // The size of the task's stored outputs (JSON text; 0 for none): the run's total is bounded
    // by config::max_outputs_per_run_bytes, checked here on the loop, where the run's tasks
    // end one at a time.
    std::size_t outputs_bytes = 0;
};

// How `task` takes an interruption: the ones so far and its settings (retry_decision.hpp).
inline interruption_standing interruption_standing_of(const live_task& task) {
    return {task.interruptions, task.spec->max_interruptions, task.spec->on_interrupt};
}

// What a stored task instance's outputs count against the run's bound.
inline std::size_t stored_outputs_bytes(const task_instance_record& ti) {
    return ti.outputs_json == "{}" ? 0 : ti.outputs_json.size();
}

enum class run_ending { none, cancel, timeout };

struct live_run {
    core::run_id id;
    job_entry* job = nullptr;  // limits and waiting lists; its definition may be newer
    std::shared_ptr<const job_definition> definition;  // what this run executes
    trigger_kind trigger = trigger_kind::manual;
    // Backfill runs are started by their backfill (its own max_active_runs), outside the
    // job's active/waiting lists, so a backfill never holds back or skips scheduled ticks.
    std::optional<core::backfill_id> backfill;
    param_values params;
    std::optional<core::sys_seconds> logical_time;
    std::optional<core::sys_seconds> data_interval_start;
    std::optional<core::sys_seconds> data_interval_end;
    run_state state = run_state::queued;
    std::optional<core::time_point> started_at;
    std::vector<live_task> tasks;  // indexed like job->graph nodes
    run_ending ending = run_ending::none;
    bool busy = false;                                    // the run's own transition is in flight
    std::unique_ptr<boost::asio::steady_timer> deadline;  // the job timeout
};

// A running or paused backfill (engine_backfills.cpp).
struct live_backfill {
    backfill_record record;  // as last committed (state, steps, skipped, cursor)
    job_entry* job = nullptr;
    std::vector<backfill_interval> intervals;  // in the backfill's order
    std::size_t next = 0;                      // the next interval to deal with
    std::set<core::run_id> active;             // its runs not yet finished
    // Its runs queued or running that other nodes drive (a former scheduler's), as the last
    // cluster sync counted them: they count against its max_active_runs (engine_cluster.cpp).
    std::int64_t foreign_active = 0;
    bool stepping = false;   // a step or a state change is in flight: nothing else acts on it
    bool finishing = false;  // the final state is being written
    std::unique_ptr<boost::asio::steady_timer> retry;  // after a failed store call
};

class engine::impl : public std::enable_shared_from_this<engine::impl> {
public:
    impl(engine_dependencies deps, engine_options options);

    // ---- engine_impl.cpp: plumbing ----
    using write_done = std::function<void(bool ok, const std::vector<transition_outcome>&)>;
    // Submits transitions (write-ahead) and runs `then` on the loop once they committed.
    void write(std::vector<transition> batch, write_done then);
    // Runs `work` on the store thread and `then(result)` back on the loop.
    template <class Work, class Then>
    void on_store(Work work, Then then);
    template <class F>
    void on_loop(F f) {
        boost::asio::post(loop_, [self = shared_from_this(), f = std::move(f)]() mutable { f(); });
    }
    new_event make_event(std::string kind, const live_run* run, const live_task* task,
                         std::string payload_json, std::string actor = "scheduler") const;
    void notify(const new_event& e);
    void start_heartbeat();
    void on_heartbeat();
    core::time_point now() const { return deps_.clock.now(); }
    std::chrono::steady_clock::duration until(core::time_point at) const;
    live_run* find_run(core::run_id id);
    void stall(live_run& run, const std::string& why);

    // ---- engine_startup.cpp ----
    void start(std::function<void(core::result<void>)> done);
    struct loaded_state;
    core::result<void> adopt(loaded_state& loaded);
    void reconcile(const run_record& record, const std::vector<task_instance_record>& tasks);
    // A run whose attempt another live process holds: looked at again once its lease expires.
    void defer_reconcile(core::run_id id, core::time_point lease_expires_at);
    void reconcile_again(core::run_id id);
    bool lease_owner_gone(const std::string& owner) const;
    // A job's definition from its spec (graph, zone, cron); an error names the job.
    static core::result<std::shared_ptr<const job_definition>> define_job(
        std::shared_ptr<const config::sluice_config> owner, const config::sluice_config& config,
        const config::job_spec& spec);
    // Points `job` at `definition` (spec, graph, zone, cron).
    static void set_definition(job_entry& job, std::shared_ptr<const job_definition> definition);

    // ---- engine_cluster.cpp: the scheduler lease (docs/cluster.md#the-scheduler) ----
    void cluster_beat(std::optional<scheduler_grant> grant);
    // True while this process may create scheduled and backfill runs: always without
    // elected_scheduler, else while its grant is unexpired.
    bool leading() const;
    // What a scheduled or backfill run carries (new_run::scheduler_epoch): 0 outside a cluster.
    std::int64_t creation_epoch() const {
        return options_.elected_scheduler ? scheduler_epoch_ : 0;
    }
    // A creation of `epoch` came back fenced: another node holds the lease.
    void lost_scheduler(std::int64_t epoch);
    // Reads what other nodes changed (paused jobs; on the scheduler, its newest ticks when it
    // just took the lease, and the unfinished backfills) and takes it up.
    void sync_from_store(bool take_over);
    void sync_job(const job_record& record, bool take_over);
    void sync_backfills(const std::vector<backfill_record>& records);

    // ---- engine_reload.cpp ----
    void reconfigure(std::shared_ptr<const config::sluice_config> next,
                     std::function<void(core::result<reload_summary>)> done);
    // The configuration new runs see (the newest reload's, else the constructor's).
    const config::sluice_config& current_config() const {
        return current_config_ ? *current_config_ : deps_.config;
    }

    // ---- engine_schedule.cpp ----
    void arm_schedule_timer();
    void on_schedule_timer();
    void plan_job_ticks(job_entry& job, bool resuming);
    void fire_tick(job_entry& job, core::sys_seconds tick);
    void trigger(trigger_request request, std::function<void(trigger_result)> done);
    void set_paused(std::string job, bool paused, std::string actor,
                    std::function<void(core::result<bool>)> done);
    std::vector<job_status> job_statuses() const;

    // ---- engine_create_runs.cpp ----
    // A run created already started (its run running, its first tasks queued or running under
    // our lease, in the creation's commit): what the engine reserved for it.
    struct creation_start {
        core::time_point at;
        std::vector<std::size_t> queued;  // nodes created queued: the dispatcher takes them later
        // Nodes created running, each admitted by the dispatcher under a placeholder id.
        std::vector<std::pair<std::size_t, core::task_instance_id>> running;
        std::vector<new_event> events;  // run and task state events, after the queued one
    };
    struct pending_creation {
        job_entry* job = nullptr;
        // The definition its tasks were made from: the run executes it even if a reload
        // changed the job while the creation was in flight.
        std::shared_ptr<const job_definition> definition;
        new_run run;
        param_values params;
        std::function<void(core::result<create_run_result>)> done;
        std::optional<creation_start> start = {};
    };
    // Creates the run (with its tasks and queued event, through the group commit), registers
    // it and admits it; `done` gets the new run or the one already holding the key.
    void create_run(job_entry& job, new_run run, param_values params,
                    std::function<void(core::result<create_run_result>)> done);
    // Makes `p` a run created already started when the job has room for it now (no run waits
    // behind max_active_runs) and its first tasks are ready: the run, its first tasks and those
    // a worker can take at once are written with the creation, saving the start's commit.
    void plan_started_creation(pending_creation& p);
    // Gives back what plan_started_creation reserved for a creation that created nothing.
    void release_started_creation(pending_creation& p);
    // Registers a run created already started: the job's active run, its timeout armed, its
    // queued tasks with the dispatcher, its running ones executing.
    void begin_started_run(live_run& run, const creation_start& start);
    // Submits the creations held so far as one batch (in parts when large).
    void flush_creations();
    void submit_creations(std::vector<pending_creation> batch);
    void on_runs_created(std::vector<pending_creation>& batch,
                         std::vector<std::vector<new_event>>& events,
                         core::result<std::vector<created_run>> r);
    // Registers a run the store just created (queued) and records its queued event unless the
    // creation already wrote it.
    live_run& adopt_created_run(job_entry& job, const new_run& nr, param_values params,
                                core::run_id id, const std::vector<task_instance_record>& tasks,
                                bool queued_event_written = false,
                                std::shared_ptr<const job_definition> definition = nullptr);
    // While one is alive, create_run holds its creations; the last one to go submits them as
    // one batch (the ticks due at one instant, catch-up at startup).
    class creation_batch {
    public:
        explicit creation_batch(impl& engine) : engine_(engine) { ++engine_.holding_creations_; }
        ~creation_batch() {
            if (--engine_.holding_creations_ == 0) {
                engine_.flush_creations();
            }
        }
        creation_batch(const creation_batch&) = delete;
        creation_batch& operator=(const creation_batch&) = delete;

    private:
        impl& engine_;
    };

    // ---- engine_runs.cpp ----
    void admit_runs(job_entry& job);
    void start_run(live_run& run);
    // Arms the job's timeout of a run that just started (from now).
    void arm_run_timeout(live_run& run);
    void plan(live_run& run);
    // Appends the planner's decisions for pending tasks to `batch` (in-memory states updated,
    // the tasks busy) and returns their nodes; release_planned queues them once committed.
    std::vector<std::size_t> append_plan(live_run& run, std::vector<transition>& batch);
    void release_planned(live_run& run, const std::vector<std::size_t>& nodes);
    // Of the nodes append_plan just made ready, starts those the dispatcher admits at once in
    // the same batch (lease and running), so a ready task costs no commit of its own; returns
    // them with their try numbers. The rest stay in `planned` for release_planned.
    std::vector<std::pair<std::size_t, int>> append_eager_starts(live_run& run,
                                                                 std::vector<std::size_t>& planned,
                                                                 std::vector<transition>& batch);
    void dispatch();
    void start_attempt(live_run& run, live_task& task);
    // Appends the lease and queued->running transitions of the task's next try (task busy and
    // running, counted in attempts_running_); returns the try number.
    int append_start(live_run& run, live_task& task, std::vector<transition>& batch);
    // After the batch carrying append_start committed (`ok`) or failed: run the attempt.
    void on_start_written(core::run_id run_id, std::size_t node, int try_number, bool ok);
    // A task whose running state and lease committed: executes its attempt, or records it as
    // stopped before it started when its run is ending or the engine shutting down.
    void begin_attempt(live_run& run, live_task& task);
    // After a batch carrying append_plan and append_eager_starts committed.
    void on_planned_written(live_run& run, const std::vector<std::size_t>& planned,
                            const std::vector<std::pair<std::size_t, int>>& started, bool ok);
    void execute_attempt(live_run& run, live_task& task);
    void on_attempt_done(core::run_id run_id, std::size_t node, attempt_result result,
                         std::string metrics_json);
    void schedule_retry(live_run& run, live_task& task);
    void requeue(core::run_id run_id, std::size_t node);
    void end_run(live_run& run, run_ending why, const std::string& actor);
    void settle(live_run& run);
    void check_finished(live_run& run);
    // The run's final state when every task finished and nothing is in flight; `except` is a
    // task whose (terminal) write is being appended to the same batch.
    std::optional<run_state> final_state_if_done(const live_run& run,
                                                 std::optional<std::size_t> except) const;
    // Appends the run's final transition (the run busy until written).
    void append_finish(live_run& run, run_state final_state, std::vector<transition>& batch);
    void on_finish_written(core::run_id id, run_state final_state, bool ok);
    void cancel(core::run_id id, std::string actor, std::function<void(core::result<bool>)> done);
    void wait_run(core::run_id id, std::function<void(core::result<run_record>)> done);

    // ---- engine_api_ops.cpp ----
    void retry_run(core::run_id id, std::string actor,
                   std::function<void(core::result<run_op_status>)> done);
    void mark_task(core::run_id id, std::string task, task_state to, std::string actor,
                   std::function<void(core::result<run_op_status>)> done);
    void mark_live_task(live_run& run, live_task& task, task_state to, const std::string& actor,
                        std::function<void(core::result<run_op_status>)> done);
    engine_stats stats() const;

    // ---- engine_backfills.cpp ----
    void create_backfill(backfill_request request, std::function<void(backfill_result)> done);
    void backfill_act(core::backfill_id id, backfill_action action, std::string actor,
                      std::function<void(core::result<run_op_status>)> done);
    // Startup: a stored backfill continues after its cursor (false: its job or schedule is gone).
    bool adopt_backfill(const backfill_record& record);
    // Creates (or skips) the next interval's run when the backfill has room; finishes it after
    // the last interval's run ended.
    void pump_backfill(live_backfill& bf);
    void pump_job_backfills(const job_entry& job);
    void on_backfill_run_ended(const live_run& run);
    void finish_backfill(live_backfill& bf);
    void retry_backfill_later(live_backfill& bf);
    new_event backfill_event(const live_backfill& bf, std::string_view from, std::string_view to,
                             const std::string& actor) const;

    // ---- engine_shutdown.cpp ----
    void shutdown(std::function<void()> done);
    void maybe_finish_shutdown();
    // The destructor's path: no writes, stop attempts, join the pools.
    void abandon();

    engine_dependencies deps_;
    engine_options options_;
    boost::asio::io_context& loop_;
    std::shared_ptr<spdlog::logger> log_;
    boost::asio::thread_pool store_pool_{1};  // one thread: store calls keep submission order
    boost::asio::thread_pool task_pool_;
    boost::asio::steady_timer schedule_timer_;
    boost::asio::steady_timer heartbeat_timer_;
    boost::asio::steady_timer grace_timer_;
    bool grace_elapsed_ = false;  // the shutdown grace ran out: attempts are being stopped
    dispatch_queue queue_;
    std::mt19937_64 rng_;
    std::function<void(const new_event&)> observer_;

    std::map<std::string, job_entry> jobs_;
    std::shared_ptr<const config::sluice_config> current_config_;     // set by a reload
    std::set<std::pair<core::sys_seconds, std::string>> timer_heap_;  // (next fire, job)
    std::unordered_map<core::run_id, std::unique_ptr<live_run>> runs_;
    std::map<core::backfill_id, live_backfill> backfills_;  // running or paused
    // Unfinished runs left to the live process that leases one of their attempts, each with
    // the timer that looks at it again when that lease expires (engine_startup.cpp).
    std::map<core::run_id, std::unique_ptr<boost::asio::steady_timer>> deferred_;
    std::map<std::string, std::string> instance_info_;  // instance id -> info, as last read
    std::unordered_map<core::run_id, std::vector<std::function<void(core::result<run_record>)>>>
        waiters_;

    // The scheduler lease as last granted (elected_scheduler): epoch 0 when not held.
    std::int64_t scheduler_epoch_ = 0;
    std::chrono::steady_clock::time_point scheduler_until_{};
    bool syncing_ = false;    // a sync_from_store read is in flight
    bool take_over_ = false;  // the next sync takes the schedule over (a new grant)
    bool started_ = false;
    bool adopted_ = false;  // adopt() ran: jobs and backfills are loaded
    bool shutting_down_ = false;
    bool stopped_ = false;
    int writes_in_flight_ = 0;
    int holding_creations_ = 0;          // open creation_batch scopes
    std::int64_t next_placeholder_ = 0;  // placeholder task ids (negative) of started creations
    std::vector<pending_creation> held_creations_;  // created while holding
    int attempts_running_ = 0;
    std::vector<std::function<void()>> shutdown_done_;
    // trigger_job attempts start and follow child runs through this (engine_launcher.cpp).
    std::unique_ptr<job_launcher> launcher_;
};

// The engine's job_launcher; `engine` outlives it (the impl owns it).
std::unique_ptr<job_launcher> make_engine_launcher(engine::impl& engine);

template <class Work, class Then>
void engine::impl::on_store(Work work, Then then) {
    boost::asio::post(store_pool_, [self = shared_from_this(), work = std::move(work),
                                    then = std::move(then)]() mutable {
        auto result = work();
        boost::asio::post(self->loop_,
                          [self, result = std::move(result), then = std::move(then)]() mutable {
                              then(std::move(result));
                          });
    });
}

}  // namespace sluice::scheduler
