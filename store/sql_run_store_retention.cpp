// Retention (scheduler/retention.hpp, docs/operations.md "Retention"): history older than the
// configured ages removed in batches. Each batch is one short write transaction that selects a
// bounded number of ids by primary key order (the oldest rows come first, so a batch finds its
// rows at the start of the table) and deletes them, children first; the caller paces batches.
#include <string>
#include <vector>

#include "store/sql/row_reader.hpp"
#include "store/sql_run_store.hpp"

namespace sluice::store {

using namespace scheduler;

namespace {

constexpr std::string_view finished_run_states = "('success', 'failed', 'canceled', 'timed_out')";
constexpr std::string_view active_run_states = "('queued', 'running')";
constexpr std::string_view finished_backfill_states = "('canceled', 'success', 'failed')";

// The statements spell cutoffs as numbers: they are microseconds from a clock, never text, and
// one count may need two cutoffs.
std::string at(core::time_point t) {
    return std::to_string(to_micros(t));
}

// Finished runs that ended before the cutoff.
std::string runs_to_prune(std::string_view columns, core::time_point cutoff) {
    return "SELECT " + std::string(columns) + " FROM runs WHERE finished_at < " + at(cutoff) +
           " AND state IN " + std::string(finished_run_states);
}

// Log lines of finished runs logged before the cutoff.
std::string logs_to_prune(std::string_view columns, core::time_point cutoff) {
    return "SELECT " + std::string(columns) +
           " FROM task_logs l JOIN task_instances t ON t.id = l.task_instance_id "
           "JOIN runs r ON r.id = t.run_id WHERE l.logged_at < " +
           at(cutoff) + " AND r.state IN " + std::string(finished_run_states);
}

// Events created before the cutoff that belong to no queued or running run.
std::string events_to_prune(std::string_view columns, core::time_point cutoff) {
    return "SELECT " + std::string(columns) + " FROM events e WHERE e.created_at < " + at(cutoff) +
           " AND (e.run_id IS NULL OR NOT EXISTS "
           "(SELECT 1 FROM runs r WHERE r.id = e.run_id AND r.state IN " +
           std::string(active_run_states) + "))";
}

// Finished backfills last changed before the cutoff none of whose runs is left (`gone`: runs
// to count as removed already).
std::string backfills_to_prune(std::string_view columns, core::time_point cutoff,
                               const std::string& gone = {}) {
    return "SELECT " + std::string(columns) + " FROM backfills b WHERE b.updated_at < " +
           at(cutoff) + " AND b.state IN " + std::string(finished_backfill_states) +
           " AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.backfill_id = b.id" +
           (gone.empty() ? "" : " AND r.id NOT IN " + gone) + ")";
}

// "(1, 2, 3)" of the first column of `rows` (integers from the store: no quoting needed).
std::string id_list(const sql_result& rows) {
    std::string out = "(";
    for (const sql_row& row : rows.rows) {
        out += (out.size() == 1 ? "" : ", ") + std::to_string(row_reader(row).integer());
    }
    return out + ")";
}

std::int64_t count(sql_tx& tx, const std::string& select_count) {
    const auto r = tx.exec(select_count);
    return row_reader(r.rows.at(0)).integer();
}

}  // namespace

core::result<prune_counts> sql_run_store::prune_batch(const retention_cutoffs& cutoffs,
                                                      std::int64_t limit) {
    return transact<prune_counts>(tx_mode::write, [&](sql_tx& tx) {
        prune_counts n;
        if (cutoffs.runs) {
            const auto ids =
                tx.exec(runs_to_prune("id", *cutoffs.runs) + " ORDER BY id LIMIT $1", {limit});
            if (!ids.rows.empty()) {
                const std::string runs = id_list(ids);
                const std::string tasks =
                    "(SELECT id FROM task_instances WHERE run_id IN " + runs + ")";
                n.log_lines +=
                    tx.exec("DELETE FROM task_logs WHERE task_instance_id IN " + tasks).affected;
                tx.exec("DELETE FROM task_attempts WHERE task_instance_id IN " + tasks);
                n.task_instances =
                    tx.exec("DELETE FROM task_instances WHERE run_id IN " + runs).affected;
                n.events += tx.exec("DELETE FROM events WHERE run_id IN " + runs).affected;
                n.runs = tx.exec("DELETE FROM runs WHERE id IN " + runs).affected;
            }
            const auto backfills = tx.exec(
                backfills_to_prune("b.id", *cutoffs.runs) + " ORDER BY b.id LIMIT $1", {limit});
            if (!backfills.rows.empty()) {
                const std::string ids = id_list(backfills);
                tx.exec("DELETE FROM backfill_run_counts WHERE backfill_id IN " + ids);
                n.backfills = tx.exec("DELETE FROM backfills WHERE id IN " + ids).affected;
            }
        }
        if (cutoffs.logs) {
            const auto seqs = tx.exec(
                logs_to_prune("l.seq", *cutoffs.logs) + " ORDER BY l.seq LIMIT $1", {limit});
            if (!seqs.rows.empty()) {
                n.log_lines +=
                    tx.exec("DELETE FROM task_logs WHERE seq IN " + id_list(seqs)).affected;
            }
        }
        if (cutoffs.events) {
            const auto ids = tx.exec(
                events_to_prune("e.id", *cutoffs.events) + " ORDER BY e.id LIMIT $1", {limit});
            if (!ids.rows.empty()) {
                n.events += tx.exec("DELETE FROM events WHERE id IN " + id_list(ids)).affected;
            }
        }
        return n;
    });
}

core::result<prune_counts> sql_run_store::count_prunable(const retention_cutoffs& cutoffs) {
    return transact<prune_counts>(tx_mode::read, [&](sql_tx& tx) {
        prune_counts n;
        std::string runs;  // the runs the runs cutoff removes, as a subquery
        if (cutoffs.runs) {
            runs = "(" + runs_to_prune("id", *cutoffs.runs) + ")";
            n.runs = count(tx, "SELECT count(*) FROM runs WHERE id IN " + runs);
            n.task_instances =
                count(tx, "SELECT count(*) FROM task_instances WHERE run_id IN " + runs);
            n.log_lines = count(tx,
                                "SELECT count(*) FROM task_logs WHERE task_instance_id IN "
                                "(SELECT id FROM task_instances WHERE run_id IN " +
                                    runs + ")");
            n.events = count(tx, "SELECT count(*) FROM events WHERE run_id IN " + runs);
            // As if those runs were gone already: what the batches end with.
            n.backfills = count(tx, backfills_to_prune("count(*)", *cutoffs.runs, runs));
        }
        // Rows the runs cutoff removes already are not counted twice.
        if (cutoffs.logs) {
            n.log_lines += count(tx, logs_to_prune("count(*)", *cutoffs.logs) +
                                         (runs.empty() ? "" : " AND r.id NOT IN " + runs));
        }
        if (cutoffs.events) {
            n.events += count(
                tx, events_to_prune("count(*)", *cutoffs.events) +
                        (runs.empty() ? ""
                                      : " AND (e.run_id IS NULL OR e.run_id NOT IN " + runs + ")"));
        }
        return n;
    });
}

}  // namespace sluice::store
