#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The placeholders of an http task's url, headers and body (docs/task-kinds.md#placeholders):
// `{{ output.TASK.NAME }}`, `{{ param.NAME }}`, `{{ var.KEY }}` and the run's values
// `{{ logical_time }}` etc. One lexer for validation (config/) and rendering (etl/), so what
// validates is what runs. Values are encoded for where they land (percent-encoded in the url,
// JSON-escaped in the body), never spliced in as raw text.
namespace sluice::config {

// The run's own values a placeholder can name.
inline constexpr std::array<std::string_view, 7> placeholder_values{"job",
                                                                    "task",
                                                                    "run_id",
                                                                    "try_number",
                                                                    "logical_time",
                                                                    "data_interval_start",
                                                                    "data_interval_end"};

struct text_placeholder {
    enum class source { output, param, var, value } from = source::value;
    std::string first;       // output: the task; param, var: the name; value: which value
    std::string second;      // output: the name
    std::size_t offset = 0;  // of "{{" in the text
    std::size_t length = 0;  // through "}}"
};

struct placeholder_scan {
    std::vector<text_placeholder> found;
    // The first malformed or unknown placeholder: its offset and what is wrong.
    std::optional<std::pair<std::size_t, std::string>> error;
};

// Every `{{ ... }}` of `text`, in order. "{{" always starts a placeholder (there is no escape).
placeholder_scan find_placeholders(std::string_view text);

// True when byte `offset` of `json` lies inside a JSON string literal: where a body's
// placeholders must stand, so a value cannot add keys or change the document's shape.
bool inside_json_string(std::string_view json, std::size_t offset);

}  // namespace sluice::config
