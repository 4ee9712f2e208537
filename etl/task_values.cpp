#include "etl/task_values.hpp"

#include <algorithm>
#include <cctype>
#include <variant>

#include "config/placeholders.hpp"
#include "config/task_outputs.hpp"
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

std::string percent_encoded(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 && u < 0x80) {
            out += c;
        } else if (c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        }
    }
    return out;
}

// The content of a JSON string holding `value` (no quotes around it).
std::string json_escaped(std::string_view value) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

core::result<std::string> placeholder_value(const config::text_placeholder& p,
                                            const scheduler::task_context& context) {
    using source = config::text_placeholder::source;
    switch (p.from) {
        case source::output: {
            const auto task = context.upstream_outputs.find(p.first);
            if (task != context.upstream_outputs.end()) {
                if (const auto value = task->second.find(p.second); value != task->second.end()) {
                    return value->second;
                }
            }
            return core::error::permanent("{{ output." + p.first + "." + p.second + " }}: task '" +
                                          p.first + "' did not publish '" + p.second +
                                          "' in this run");
        }
        case source::param: {
            const auto value = context.params.find(p.first);
            return value == context.params.end() ? std::string() : value->second;
        }
        case source::var: {
            const auto value = context.variables.find(p.first);
            if (value == context.variables.end()) {
                return core::error::permanent("{{ var." + p.first + " }}: no variable '" + p.first +
                                              "' in the store");
            }
            return value->second;
        }
        case source::value:
            break;
    }
    const auto values = task_bind_values(context);
    const auto value = values.find(p.first);
    return value == values.end() ? std::string() : value->second.value_or("");
}

}  // namespace

core::result<std::string> render_placeholders(std::string_view text,
                                              const scheduler::task_context& context,
                                              placeholder_encoding how) {
    const config::placeholder_scan scan = config::find_placeholders(text);
    if (scan.error) {
        return core::error::permanent(scan.error->second);
    }
    std::string out;
    std::size_t copied = 0;
    for (const config::text_placeholder& p : scan.found) {
        auto value = placeholder_value(p, context);
        if (!value) {
            return value.error();
        }
        out.append(text.substr(copied, p.offset - copied));
        copied = p.offset + p.length;
        switch (how) {
            case placeholder_encoding::url:
                out += percent_encoded(*value);
                break;
            case placeholder_encoding::header:
                if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
                    return core::error::permanent(
                        "the value of " + std::string(text.substr(p.offset, p.length)) +
                        " holds a line break or NUL, which cannot go into a header");
                }
                out += *value;
                break;
            case placeholder_encoding::json:
                out += json_escaped(*value);
                break;
        }
    }
    out.append(text.substr(copied));
    return out;
}

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
    for (const auto& [task, outputs] : context.upstream_outputs) {
        for (const auto& [name, value] : outputs) {
            env.emplace_back(config::output_env_name(task, name), value);
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
    for (const auto& [task, outputs] : context.upstream_outputs) {
        for (const auto& [name, value] : outputs) {
            values[config::output_bind_name(task, name)] = value;
        }
    }
    return values;
}

}  // namespace sluice::etl
