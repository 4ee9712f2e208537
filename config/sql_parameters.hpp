#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/decode_context.hpp"
#include "config/decoders.hpp"
#include "config/spec.hpp"

// Validation of the `:name` parameters in a task's SQL (a sql task's script, a copy source's
// query), read by the runtime's lexer (config/sql_text.hpp). Internal to config/.
namespace sluice::config {

// The bind names every task of `job` receives (etl/task_values.hpp): job, task, run_id,
// try_number, logical_time, data_interval_start, data_interval_end and param_<name> for each
// param the job declares. var_<key> names are not listed: variables are set at run time, so
// any var_ name is accepted.
std::vector<std::string> task_bind_names(const job_spec& job);

// Reports each parameter of `text` (the value of scalar `n`) that the task does not receive,
// at its line and column with a did-you-mean, and a script the lexer cannot read. `script`:
// a sql task's script, also refused where the runtime refuses it ('?' on ClickHouse).
// `:output_...` names go to `outputs`, checked once the job's graph is known.
void check_sql_parameters(decode_context& ctx, const node& n, std::string_view text,
                          connection_type type, const job_spec& job, std::string_view what,
                          bool script, std::vector<output_ref>& outputs);

// The same for a sql task's `file` when it exists now (it is read when the task runs): the
// problem is reported at `n` (the `file` value) with its line and column in the file.
void check_sql_file_parameters(decode_context& ctx, const node& n, const std::string& path,
                               connection_type type, const job_spec& job, std::string_view what,
                               std::vector<output_ref>& outputs);

}  // namespace sluice::config
