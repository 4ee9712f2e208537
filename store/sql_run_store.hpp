#pragma once

#include <memory>
#include <optional>
#include <type_traits>

#include "scheduler/node_registry.hpp"
#include "scheduler/run_store.hpp"
#include "scheduler/task_history_reader.hpp"
#include "scheduler/task_log_reader.hpp"
#include "store/sql/sql_engine.hpp"

namespace sluice::store {

// The run_store written once in SQL shared by SQLite and PostgreSQL; the engine supplies
// connections and transactions. Thread-safety is the engine's: every call is one transaction.
class sql_run_store final : public scheduler::run_store,
                            public scheduler::task_log_reader,
                            public scheduler::task_history_reader,
                            public scheduler::node_registry {
public:
    explicit sql_run_store(std::unique_ptr<sql_engine> engine);

    core::result<void> migrate() override;
    core::result<int> schema_version() override;

    core::result<scheduler::job_record> upsert_job(std::string_view name,
                                                   std::string_view definition_hash,
                                                   bool initial_paused) override;
    core::result<std::vector<scheduler::job_record>> upsert_jobs(
        std::span<const scheduler::job_upsert> jobs) override;
    core::result<bool> set_paused(std::string_view name, bool paused) override;
    core::result<std::optional<scheduler::job_record>> get_job(std::string_view name) override;
    core::result<std::vector<scheduler::job_record>> list_jobs() override;

    core::result<scheduler::create_run_result> create_run(const scheduler::new_run& run) override;
    core::result<std::optional<scheduler::run_record>> get_run(core::run_id id) override;
    core::result<scheduler::run_page> list_runs(const scheduler::run_filter& filter) override;
    core::result<std::vector<scheduler::task_instance_record>> list_task_instances(
        core::run_id run) override;
    core::result<std::vector<scheduler::attempt_record>> list_task_attempts(
        core::run_id run) override;
    core::result<std::optional<scheduler::task_instance_record>> get_task_instance(
        core::task_instance_id id) override;
    // sql_run_store_grid.cpp
    core::result<scheduler::grid_page> job_grid(std::string_view job, std::size_t limit,
                                                std::optional<core::run_id> before) override;
    core::result<std::vector<scheduler::run_record>> list_unfinished_runs() override;
    core::result<std::vector<scheduler::task_instance_record>> list_tasks_of_unfinished_runs()
        override;

    core::result<std::vector<scheduler::transition_outcome>> apply(
        std::span<const scheduler::transition> batch) override;
    // sql_run_creation.cpp
    core::result<scheduler::batch_outcomes> write_batch(
        std::span<const scheduler::run_creation> creations,
        std::span<const scheduler::transition> batch) override;

    core::result<void> append_task_log(core::task_instance_id task, int try_number,
                                       std::span<const scheduler::log_line> lines) override;
    core::result<void> put_running_metrics(core::task_instance_id task, int try_number,
                                           std::string_view metrics_json) override;
    core::result<std::vector<scheduler::stored_log_line>> read_task_log(core::task_instance_id task,
                                                                        std::int64_t after_seq,
                                                                        std::size_t limit) override;
    // sql_run_store_logs.cpp
    core::result<scheduler::task_log_window> read_task_log_window(core::task_instance_id task,
                                                                  std::int64_t first,
                                                                  std::size_t limit) override;
    core::result<std::vector<scheduler::task_log_hit>> search_task_log(core::task_instance_id task,
                                                                       std::string_view needle,
                                                                       std::size_t limit) override;
    // sql_run_store_history.cpp
    core::result<std::vector<scheduler::task_history>> read_task_histories(
        std::span<const scheduler::task_ref> tasks, std::string_view checkpoint_key,
        std::size_t limit) override;

    core::result<std::int64_t> append_event(const scheduler::new_event& event) override;
    core::result<std::vector<scheduler::event_record>> read_events(
        std::int64_t after_id, std::optional<std::string_view> kind, std::size_t limit) override;
    core::result<std::vector<scheduler::event_record>> read_events_before(
        std::optional<std::int64_t> before_id, std::optional<std::string_view> kind,
        std::size_t limit) override;
    core::result<std::int64_t> last_event_id() override;

    core::result<std::optional<scheduler::variable_record>> get_variable(
        std::string_view key) override;
    core::result<void> put_variable(const scheduler::variable_record& variable) override;
    core::result<bool> delete_variable(std::string_view key) override;
    core::result<std::vector<scheduler::variable_record>> list_variables() override;

    core::result<std::optional<std::string>> get_checkpoint(std::string_view job,
                                                            std::string_view task,
                                                            std::string_view key) override;
    core::result<void> put_checkpoint(std::string_view job, std::string_view task,
                                      std::string_view key, std::string_view value_json,
                                      core::time_point at) override;

    core::result<void> register_instance(const scheduler::instance_record& instance) override;
    core::result<bool> heartbeat_instance(std::string_view id, core::time_point at) override;
    core::result<std::vector<scheduler::instance_record>> list_instances() override;

    // sql_run_store_nodes.cpp
    core::result<void> register_node(const scheduler::node_registration& node) override;
    core::result<bool> heartbeat_node(std::string_view id) override;
    core::result<bool> set_node_state(std::string_view id, scheduler::node_state state) override;
    core::result<std::vector<scheduler::node_record>> list_nodes() override;
    core::result<std::map<scheduler::node_state, std::int64_t>> count_nodes() override;
    core::result<scheduler::scheduler_claim> claim_scheduler(std::string_view id,
                                                             std::chrono::microseconds ttl,
                                                             std::string_view take_from) override;
    core::result<bool> release_scheduler(std::string_view id) override;

    // sql_run_store_backfills.cpp
    core::result<core::backfill_id> create_backfill(const scheduler::new_backfill& b) override;
    core::result<std::optional<scheduler::backfill_record>> get_backfill(
        core::backfill_id id) override;
    core::result<std::vector<scheduler::backfill_record>> list_backfills(
        const scheduler::backfill_filter& filter) override;
    core::result<std::vector<scheduler::backfill_record>> list_unfinished_backfills() override;
    core::result<bool> set_backfill_state(core::backfill_id id,
                                          std::span<const scheduler::backfill_state> from,
                                          scheduler::backfill_state to,
                                          core::time_point at) override;
    core::result<scheduler::backfill_step_result> apply_backfill_step(
        const scheduler::backfill_step& step) override;
    core::result<std::vector<scheduler::run_record>> list_runs_by_logical_time(
        std::string_view job, core::time_point first, core::time_point last) override;

    // sql_run_store_retention.cpp
    core::result<scheduler::prune_counts> prune_batch(const scheduler::retention_cutoffs& cutoffs,
                                                      std::int64_t limit) override;
    core::result<scheduler::prune_counts> count_prunable(
        const scheduler::retention_cutoffs& cutoffs) override;

private:
    // Runs body in one transaction and returns what it produced.
    template <class T, class Body>
    core::result<T> transact(tx_mode mode, Body&& body);

    std::unique_ptr<sql_engine> engine_;
};

namespace detail {
// Appends one event inside an open transaction (shared by append_event and apply); returns its id.
std::int64_t insert_event(sql_tx& tx, const scheduler::new_event& event);
// Inserts a run and its task instances inside an open transaction, idempotent on run_key
// (shared by create_run, apply_backfill_step and write_batch); `tasks`, when given, receives the
// task instances it created.
scheduler::create_run_result insert_run(
    sql_tx& tx, const scheduler::new_run& run,
    std::vector<scheduler::task_instance_record>* tasks = nullptr);
// A run creation the store cannot write as asked (a task past pending in a run not created
// started, a state other than pending, queued or running, a running task without a lease
// owner): its message; nullopt when it is well formed.
std::optional<std::string> malformed_creation(const scheduler::new_run& run);
// The stored form of `task`, created with `run` (new_task_instance::state).
scheduler::task_instance_record created_task(core::task_instance_id id, core::run_id run_id,
                                             const scheduler::new_run& run,
                                             const scheduler::new_task_instance& task);
// The runs table's columns as read_run_row expects them, and the reader.
std::string_view run_select_columns();
scheduler::run_record read_run_row(const sql_row& row);
// The task_instances table's columns as read_task_row expects them, and the reader.
std::string_view task_select_columns();
scheduler::task_instance_record read_task_row(const sql_row& row);
// The store's clock now, in microseconds since the Unix epoch, as an SQL expression: the server's
// transaction time on PostgreSQL (the one clock every node of a cluster sees), the machine's
// clock on SQLite (one node on one machine).
std::string store_clock_sql(sql_dialect dialect);
// SELECT of the scheduler lease's epoch while it is held and unexpired, one row or none. On
// PostgreSQL it takes the row FOR SHARE: a claim that would move the epoch waits until the
// creation checking it committed (docs/cluster.md#the-scheduler).
std::string scheduler_fence_sql(sql_dialect dialect);
}  // namespace detail

template <class T, class Body>
core::result<T> sql_run_store::transact(tx_mode mode, Body&& body) {
    if constexpr (std::is_void_v<T>) {
        return engine_->transact(mode, body);
    } else {
        std::optional<T> out;
        auto done = engine_->transact(mode, [&](sql_tx& tx) { out.emplace(body(tx)); });
        if (!done) {
            return done.error();
        }
        return std::move(*out);
    }
}

}  // namespace sluice::store
