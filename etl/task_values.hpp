#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "scheduler/task_runner.hpp"

// The values every task receives (docs/task-kinds.md#values-every-task-receives): the run's
// identity, its logical time and data interval (RFC 3339 UTC), its trigger params and the store's
// variables. Shell tasks get them as environment variables, SQL tasks as named bind parameters.
namespace sluice::etl {

// A param or variable name as an environment variable suffix: upper-cased, every character that
// is not an ASCII letter or digit replaced by '_' ("batch-size" -> "BATCH_SIZE").
std::string env_suffix(std::string_view name);

// A param or variable name as a bind parameter suffix: lower-cased, every character that is not
// an ASCII letter or digit replaced by '_' ("Batch-Size" -> "batch_size").
std::string bind_suffix(std::string_view name);

// SLUICE_JOB, SLUICE_TASK, SLUICE_RUN_ID, SLUICE_TRY_NUMBER, SLUICE_LOGICAL_TIME,
// SLUICE_DATA_INTERVAL_START, SLUICE_DATA_INTERVAL_END, SLUICE_PARAM_<NAME>, SLUICE_VAR_<KEY>
// and SLUICE_OUTPUT_<TASK>_<NAME> for each output of an upstream task. A time that is not set (a
// manual run has no data interval) is present with an empty value, so `set -u` scripts can test it
// with [ -n "$SLUICE_LOGICAL_TIME" ].
std::vector<std::pair<std::string, std::string>> task_environment(
    const scheduler::task_context& context);

// Named bind values: job, task, run_id, try_number, logical_time, data_interval_start,
// data_interval_end (nullopt = SQL NULL when not set), param_<name>, var_<key>,
// output_<task>_<name>. Keys are lower
// case; every value is text (the server casts it where the statement's context says so).
std::map<std::string, std::optional<std::string>> task_bind_values(
    const scheduler::task_context& context);

// Where a placeholder's value lands (config/placeholders.hpp), which says how it is encoded:
// percent-encoded in a url (every byte but A-Z a-z 0-9 - . _ ~), as is in a header (a value
// with CR, LF or NUL is refused), JSON-escaped in a body (its placeholders stand inside JSON
// strings, which validation checks).
enum class placeholder_encoding { url, header, json };

// `text` with its `{{ ... }}` placeholders replaced by the attempt's values: upstream outputs,
// params (an optional param not given is ""), variables, and the run's values as
// task_environment spells them. A placeholder without a value (an output its task did not
// publish, a variable not in the store) is a permanent error naming it.
core::result<std::string> render_placeholders(std::string_view text,
                                              const scheduler::task_context& context,
                                              placeholder_encoding how);

}  // namespace sluice::etl
