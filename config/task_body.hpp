#pragma once

#include <optional>
#include <string>

#include "config/decoders.hpp"

// Decoders of the type-specific part of a task. Internal to config/.
namespace sluice::config {

struct task_body_context {
    decode_context& ctx;
    const map_reader& m;  // the task's mapping
    const decode_scope& scope;
    const job_spec& job;
    decoded_task& task;
};

shell_spec decode_shell(const task_body_context& b);
sql_spec decode_sql(const task_body_context& b);
copy_spec decode_copy(const task_body_context& b);
http_spec decode_http(const task_body_context& b);
trigger_job_spec decode_trigger_job(const task_body_context& b);

// Reports a connection name that is not declared (with a did-you-mean); returns the
// connection's type when it is declared with a valid type.
std::optional<connection_type> check_connection_ref(decode_context& ctx, const node& n,
                                                    const std::string& name,
                                                    const decode_scope& scope);

}  // namespace sluice::config
