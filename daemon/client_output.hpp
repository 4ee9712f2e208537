#pragma once

// Printing API replies for people: aligned tables and run blocks built from the JSON the HTTP
// API returns (the same field names `--output json` prints).

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sluice::daemon {

struct api_failure;
class api_client;

// Prints "sluice: MESSAGE" on stderr and returns the failure's exit code.
int report_failure(const api_failure& failure);

// `--param NAME=VALUE` options as the JSON object of a trigger or backfill body; nullopt, after
// saying why on stderr, when one has no '='.
std::optional<nlohmann::json> params_object(const std::vector<std::string>& options);

// A JSON value as table text: strings bare, null as "-", others dumped.
std::string cell(const nlohmann::json& value);

// Rows of `columns` (JSON field names) from an array of objects, aligned, with a header.
void print_table(const nlohmann::json& rows, const std::vector<std::string>& columns,
                 std::ostream& out);

// The outputs of a run's tasks (each task's `outputs` object, as the API shows them), one
// "TASK.NAME = VALUE" line each under "outputs:"; nothing when no task published any. A long
// value is cut for the terminal (`--output json` has it whole).
void print_task_outputs(const nlohmann::json& tasks, std::ostream& out);

// One run from GET /api/v1/runs/{id} with its tasks.
void print_remote_run(const nlohmann::json& run, std::ostream& out);

// `--wait`: GETs `target` (a run or a backfill) every `poll` until its `state` is final
// (success, failed, canceled, timed_out), then prints it (JSON when `json`, else through
// `print`) and returns exit_ok for success and exit_run_failed otherwise. Polling keeps the
// client simple and survives a daemon restart in between.
int wait_until_finished(api_client& api, const std::string& target, bool json,
                        std::chrono::milliseconds poll,
                        void (*print)(const nlohmann::json&, std::ostream&));

}  // namespace sluice::daemon
