#pragma once

#include <iosfwd>

#include <nlohmann/json_fwd.hpp>

#include "scheduler/run_store.hpp"

namespace sluice::daemon {

// A run and its task instances as a readable block (and, with logs, every task's output).
void print_run_report(scheduler::run_store& store, const scheduler::run_record& run,
                      std::ostream& out, bool with_logs);

// Runs as an aligned table, newest first.
void print_run_table(const std::vector<scheduler::run_record>& runs, std::ostream& out);

// The JSON forms `--output json` prints; field names match the HTTP API.
nlohmann::json run_json(const scheduler::run_record& run);
nlohmann::json task_instance_json(const scheduler::task_instance_record& ti);

}  // namespace sluice::daemon
