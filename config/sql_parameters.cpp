#include "config/sql_parameters.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "config/sql_text.hpp"

namespace sluice::config {

namespace {

// A file bigger than this is not read at validation (the task still reads it when it runs).
constexpr std::uintmax_t max_checked_sql_file = 4 * 1024 * 1024;

// `:output_<task>_<name>`: an upstream task's output (config/task_outputs.hpp).
bool is_output_reference(const std::string& name) {
    return name.starts_with("output_");
}

bool receives(const std::vector<std::string>& names, const std::string& name) {
    return name.starts_with("var_") || std::find(names.begin(), names.end(), name) != names.end();
}

std::string unknown_message(const std::string& name, const std::vector<std::string>& names,
                            std::string_view what) {
    std::vector<std::string> spelled;
    for (const auto& n : names) {
        spelled.push_back(":" + n);
    }
    const std::string hint = did_you_mean(":" + name, spelled);
    return "unknown SQL parameter ':" + name + "' in " + std::string(what) +
           (hint.empty() ? "; the task receives " + join_names(spelled) + " and :var_<key>" : hint);
}

// 1-based line and column of byte `offset` of `text`.
std::pair<int, int> line_column(std::string_view text, std::size_t offset) {
    const auto before = text.substr(0, offset);
    const int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    const auto eol = before.rfind('\n');
    const auto column = offset - (eol == std::string_view::npos ? 0 : eol + 1) + 1;
    return {line, static_cast<int>(column)};
}

}  // namespace

std::vector<std::string> task_bind_names(const job_spec& job) {
    std::vector<std::string> names{"job",
                                   "task",
                                   "run_id",
                                   "try_number",
                                   "logical_time",
                                   "data_interval_start",
                                   "data_interval_end"};
    for (const param_spec& p : job.params) {
        std::string name = "param_" + p.name;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        names.push_back(std::move(name));
    }
    return names;
}

void check_sql_parameters(decode_context& ctx, const node& n, std::string_view text,
                          connection_type type, const job_spec& job, std::string_view what,
                          bool script, std::vector<output_ref>& outputs) {
    const auto dialect = sql_dialect_of(type);
    if (!dialect) {
        return;
    }
    if (script) {
        if (auto parsed = parse_sql_script(text, *dialect); !parsed) {
            ctx.error(n.pos, "the SQL of " + std::string(what) + ": " + parsed.error().message);
            return;
        }
    }
    auto found = find_sql_placeholders(text, *dialect);
    if (!found) {
        ctx.error(n.pos, "the SQL of " + std::string(what) + ": " + found.error().message);
        return;
    }
    const auto names = task_bind_names(job);
    // Offsets are into the text as YAML decoded it; an interpolated value is reported at its
    // start.
    const bool exact = n.text == text;
    for (const sql_placeholder& p : *found) {
        if (is_output_reference(p.name)) {
            outputs.push_back(
                output_ref{p.name, {}, {}, exact ? ctx.position_in(n, p.offset) : n.pos, {}});
            continue;
        }
        if (receives(names, p.name)) {
            continue;
        }
        auto message = unknown_message(p.name, names, what);
        if (exact) {
            ctx.error_in(n, p.offset, std::move(message));
        } else {
            ctx.error(n.pos, std::move(message));
        }
    }
}

void check_sql_file_parameters(decode_context& ctx, const node& n, const std::string& path,
                               connection_type type, const job_spec& job, std::string_view what,
                               std::vector<output_ref>& outputs) {
    const auto dialect = sql_dialect_of(type);
    std::error_code ec;
    if (!dialect || !std::filesystem::is_regular_file(path, ec) ||
        std::filesystem::file_size(path, ec) > max_checked_sql_file || ec) {
        return;  // a missing file is the task's error when it runs (it may be written later)
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
        return;
    }
    const std::string script = text.str();
    auto found = find_sql_placeholders(script, *dialect);
    if (!found) {
        ctx.error(n.pos,
                  "the SQL of " + std::string(what) + " (" + path + "): " + found.error().message);
        return;
    }
    const auto names = task_bind_names(job);
    for (const sql_placeholder& p : *found) {
        const auto [line, column] = line_column(script, p.offset);
        const std::string at = path + ":" + std::to_string(line) + ":" + std::to_string(column);
        if (is_output_reference(p.name)) {
            outputs.push_back(output_ref{p.name, {}, {}, n.pos, at + ": "});
        } else if (!receives(names, p.name)) {
            ctx.error(n.pos, at + ": " + unknown_message(p.name, names, what));
        }
    }
}

}  // namespace sluice::config
