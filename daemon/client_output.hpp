#pragma once

// Printing API replies for people: aligned tables and run blocks built from the JSON the HTTP
// API returns (the same field names `--output json` prints).

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sluice::daemon {

struct api_failure;

// Prints "sluice: MESSAGE" on stderr and returns the failure's exit code.
int report_failure(const api_failure& failure);

// A JSON value as table text: strings bare, null as "-", others dumped.
std::string cell(const nlohmann::json& value);

// Rows of `columns` (JSON field names) from an array of objects, aligned, with a header.
void print_table(const nlohmann::json& rows, const std::vector<std::string>& columns,
                 std::ostream& out);

// One run from GET /api/v1/runs/{id} with its tasks.
void print_remote_run(const nlohmann::json& run, std::ostream& out);

}  // namespace sluice::daemon
