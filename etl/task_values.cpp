#include "etl/task_values.hpp"

#include <algorithm>
#include <cctype>
#include <variant>

#include "core/time.hpp"

namespace sluice::etl {

namespace {

std::string mangle(std::string_view name, int (*to_case)(int)) {
    std::string out;
    out.reserve(name.size());
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x80 && std::isalnum(u)) ? static_cast<char>(to_case(u)) : '_';
    }
    return out;
}

std::optional<std::string> format_time(const std::optional<core::sys_seconds>& t) {
    if (!t) {
        return std::nullopt;
    }
    return core::format_rfc3339_utc(*t);
}

}  // namespace

std::string env_suffix(std::string_view name) {
    return mangle(name, [](int c) { return std::toupper(c); });
}

std::string bind_suffix(std::string_view name) {
    return mangle(name, [](int c) { return std::tolower(c); });
}

std::vector<std::pair<std::string, std::string>> task_environment(
    const scheduler::task_context& context) {
    std::vector<std::pair<std::string, std::string>> env{
        {"SLUICE_JOB", context.job.name},
        {"SLUICE_TASK", context.task.name},
        {"SLUICE_RUN_ID", context.run.to_string()},
        {"SLUICE_TRY_NUMBER", std::to_string(context.try_number)},
        {"SLUICE_LOGICAL_TIME", format_time(context.logical_time).value_or("")},
        {"SLUICE_DATA_INTERVAL_START", format_time(context.data_interval_start).value_or("")},
        {"SLUICE_DATA_INTERVAL_END", format_time(context.data_interval_end).value_or("")},
    };
    for (const auto& [name, value] : context.params) {
        env.emplace_back("SLUICE_PARAM_" + env_suffix(name), value);
    }
    const auto* shell = std::get_if<config::shell_spec>(&context.task.kind);
    for (const auto& [key, value] : context.variables) {
        // A secret variable only where the task names it: a command's environment is easily
        // dumped into its log (`env`, `set -x`), and children inherit it.
        const bool named =
            shell != nullptr &&
            std::find(shell->secrets.begin(), shell->secrets.end(), key) != shell->secrets.end();
        if (!context.secret_variables.contains(key) || named) {
            env.emplace_back("SLUICE_VAR_" + env_suffix(key), value);
        }
    }
    return env;
}

std::map<std::string, std::optional<std::string>> task_bind_values(
    const scheduler::task_context& context) {
    std::map<std::string, std::optional<std::string>> values{
        {"job", context.job.name},
        {"task", context.task.name},
        {"run_id", context.run.to_string()},
        {"try_number", std::to_string(context.try_number)},
        {"logical_time", format_time(context.logical_time)},
        {"data_interval_start", format_time(context.data_interval_start)},
        {"data_interval_end", format_time(context.data_interval_end)},
    };
    for (const auto& [name, value] : context.params) {
        values["param_" + bind_suffix(name)] = value;
    }
    for (const auto& [key, value] : context.variables) {
        values["var_" + bind_suffix(key)] = value;
    }
    return values;
}

}  // namespace sluice::etl
