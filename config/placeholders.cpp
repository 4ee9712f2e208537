#include "config/placeholders.hpp"

#include <algorithm>

namespace sluice::config {

namespace {

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
    }
    while (!s.empty() && s.back() == ' ') {
        s.remove_suffix(1);
    }
    return s;
}

// Reads what stands between the braces; an error message when it names nothing known.
std::optional<std::string> read_inner(std::string_view inner, text_placeholder& p) {
    if (inner.empty() || !std::all_of(inner.begin(), inner.end(), name_char)) {
        return std::string(
            "a placeholder is {{ output.TASK.NAME }}, {{ param.NAME }}, "
            "{{ var.KEY }} or one of the run's values (logical_time, ...)");
    }
    if (inner.starts_with("output.")) {
        const std::string_view rest = inner.substr(7);
        const auto dot = rest.rfind('.');
        if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) {
            return std::string("expected {{ output.TASK.NAME }}");
        }
        p.from = text_placeholder::source::output;
        p.first = std::string(rest.substr(0, dot));
        p.second = std::string(rest.substr(dot + 1));
        return std::nullopt;
    }
    for (const auto& [prefix, from] :
         {std::pair{std::string_view("param."), text_placeholder::source::param},
          std::pair{std::string_view("var."), text_placeholder::source::var}}) {
        if (inner.starts_with(prefix)) {
            if (inner.size() == prefix.size()) {
                return "expected {{ " + std::string(prefix) + "NAME }}";
            }
            p.from = from;
            p.first = std::string(inner.substr(prefix.size()));
            return std::nullopt;
        }
    }
    if (std::find(placeholder_values.begin(), placeholder_values.end(), inner) ==
        placeholder_values.end()) {
        std::string names;
        for (std::string_view v : placeholder_values) {
            names += (names.empty() ? "" : ", ") + std::string(v);
        }
        return "unknown placeholder '" + std::string(inner) +
               "'; use output.TASK.NAME, param.NAME, var.KEY or one of: " + names;
    }
    p.from = text_placeholder::source::value;
    p.first = std::string(inner);
    return std::nullopt;
}

}  // namespace

placeholder_scan find_placeholders(std::string_view text) {
    placeholder_scan scan;
    for (std::size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at)) {
        const auto close = text.find("}}", at + 2);
        if (close == std::string_view::npos) {
            scan.error.emplace(at, "unterminated placeholder: '{{' without '}}'");
            return scan;
        }
        text_placeholder p;
        p.offset = at;
        p.length = close + 2 - at;
        if (auto problem = read_inner(trim(text.substr(at + 2, close - at - 2)), p)) {
            scan.error.emplace(at, std::move(*problem));
            return scan;
        }
        scan.found.push_back(std::move(p));
        at = close + 2;
    }
    return scan;
}

bool inside_json_string(std::string_view json, std::size_t offset) {
    bool in_string = false;
    for (std::size_t i = 0; i < json.size() && i < offset; ++i) {
        if (in_string && json[i] == '\\') {
            ++i;
        } else if (json[i] == '"') {
            in_string = !in_string;
        }
    }
    return in_string;
}

}  // namespace sluice::config
