#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/decode_context.hpp"
#include "config/spec.hpp"

// The decoders of each part of the schema. Each reports every problem it sees and returns a
// spec holding defaults where a value was bad, so decoding always runs to the end. Internal.
namespace sluice::config {

// Retry fields as written at one level (defaults, job, task); unset fields inherit.
struct retry_overrides {
    std::optional<int> max_attempts;
    std::optional<core::duration> delay;
    std::optional<double> backoff;
    std::optional<core::duration> max_delay;
    std::optional<double> jitter;

    void apply_to(retry_policy& policy) const;
};

// What jobs and tasks are checked against, gathered before jobs are decoded.
struct decode_scope {
    std::vector<std::string> connection_names;  // every connection declared, even invalid ones
    std::map<std::string, connection_type, std::less<>> connection_types;  // valid types only
    std::vector<std::string> pool_names;
    std::vector<std::string> job_names;
    defaults_spec defaults;
    retry_overrides default_retries;
    bool default_timezone_valid = true;
};

// A reference to an upstream task's output (`:output_<task>_<name>` in SQL,
// `{{ output.TASK.NAME }}` in an http task), checked once the job's graph is known.
struct output_ref {
    // SQL: the bind name, lower case ("output_extract_batch_id"); http: empty.
    std::string bind_name;
    std::string task;  // http: the task and name as written
    std::string name;
    position pos;
    std::string where;  // "path:line:col: " when the reference is in a SQL file, else ""
};

// A task with the positions later checks point at.
struct decoded_task {
    task_spec spec;
    position name_pos;
    std::vector<position> depends_on_pos;  // parallel to spec.depends_on
    const node* job_node = nullptr;        // trigger_job: the `job` value
    const node* params_node = nullptr;     // trigger_job: the `params` mapping
    std::vector<output_ref> output_refs;   // checked by check_output_refs
};

// Reports each output reference of the job's tasks that names no output of an upstream task
// (config/task_outputs.hpp), at its line and column with a did-you-mean. `job.tasks` is filled.
void check_output_refs(decode_context& ctx, const job_spec& job,
                       const std::vector<decoded_task>& tasks);

server_spec decode_server(decode_context& ctx, const map_entry& e);
store_spec decode_store(decode_context& ctx, const map_entry& e);
std::map<std::string, int> decode_pools(decode_context& ctx, const map_entry& e);
void decode_defaults(decode_context& ctx, const map_entry& e, decode_scope& scope);
std::map<std::string, connection_spec> decode_connections(decode_context& ctx, const map_entry& e,
                                                          decode_scope& scope);
retry_overrides decode_retries(decode_context& ctx, const map_entry& e);
notify_spec decode_notify(decode_context& ctx, const map_entry& e);
notifications_spec decode_notifications(decode_context& ctx, const map_entry& e);
// `inherit_env` (defaults, jobs): variable names, or prefixes ending in '*'.
std::vector<std::string> decode_inherit_env(decode_context& ctx, const node& n);
// Validates an IANA zone name; the error carries a did-you-mean over the tz database.
bool check_time_zone(decode_context& ctx, const node& n, const std::string& zone);

std::vector<job_spec> decode_jobs(decode_context& ctx, const map_entry& e,
                                  const decode_scope& scope);
decoded_task decode_task(decode_context& ctx, const map_entry& e, const job_spec& job,
                         const retry_overrides& job_retries, const decode_scope& scope);

// Checks a parameter value against its type; returns why it does not fit.
std::optional<std::string> check_param_value(param_type type, const std::string& value);

// The whole configuration from the (merged) root node.
sluice_config decode_config(decode_context& ctx, const node& root);

}  // namespace sluice::config
