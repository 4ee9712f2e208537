#include "config/task_outputs.hpp"

#include <algorithm>
#include <set>

namespace sluice::config {

namespace {

std::string mangle(std::string_view text, bool upper) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum) {
            out += '_';
        } else if (upper && c >= 'a' && c <= 'z') {
            out += static_cast<char>(c - 'a' + 'A');
        } else if (!upper && c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c - 'A' + 'a');
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string output_env_name(std::string_view task, std::string_view name) {
    return "SLUICE_OUTPUT_" + mangle(task, true) + "_" + mangle(name, true);
}

std::string output_bind_name(std::string_view task, std::string_view name) {
    return "output_" + mangle(task, false) + "_" + mangle(name, false);
}

bool is_output_name(std::string_view name) {
    if (name.empty() || name.size() > max_output_name_bytes) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

std::optional<std::string> outputs_problem(
    const std::vector<std::pair<std::string, std::string>>& outputs) {
    std::set<std::string_view> names;
    for (const auto& [name, value] : outputs) {
        if (!is_output_name(name)) {
            return "invalid output name '" + name.substr(0, 80) +
                   "': use 1 to 64 letters, digits and '_'";
        }
        if (value.size() > max_output_value_bytes) {
            return "output '" + name + "' is " + std::to_string(value.size()) +
                   " bytes; a value holds at most " + std::to_string(max_output_value_bytes) +
                   " bytes (publish a path or a key, not the data)";
        }
        if (value.find('\0') != std::string::npos) {
            // JSON text in the store (PostgreSQL's jsonb) cannot hold it.
            return "output '" + name + "' holds a NUL byte; values are text";
        }
        names.insert(name);
    }
    if (names.size() > max_outputs_per_task) {
        return "the task published " + std::to_string(names.size()) +
               " outputs; a task publishes at most " + std::to_string(max_outputs_per_task);
    }
    return std::nullopt;
}

std::optional<std::vector<std::string>> declared_outputs(const task_spec& task) {
    if (std::holds_alternative<shell_spec>(task.kind)) {
        return std::nullopt;
    }
    if (const auto* sql = std::get_if<sql_spec>(&task.kind)) {
        return sql->outputs;
    }
    if (std::holds_alternative<copy_spec>(task.kind)) {
        return std::vector<std::string>{std::string(copy_rows_written_output),
                                        std::string(copy_mark_output)};
    }
    return std::vector<std::string>{};
}

std::vector<const task_spec*> upstream_tasks(const job_spec& job, std::string_view task) {
    std::set<std::string, std::less<>> seen;
    std::vector<std::string_view> pending{task};
    while (!pending.empty()) {
        const std::string_view name = pending.back();
        pending.pop_back();
        const task_spec* t = job.find_task(name);
        if (t == nullptr) {
            continue;
        }
        for (const std::string& up : t->depends_on) {
            if (up != task && seen.insert(up).second) {
                pending.push_back(up);
            }
        }
    }
    std::vector<const task_spec*> out;
    for (const task_spec& t : job.tasks) {
        if (seen.count(t.name) != 0) {
            out.push_back(&t);
        }
    }
    return out;
}

}  // namespace sluice::config
