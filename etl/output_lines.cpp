#include "etl/output_lines.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "config/task_outputs.hpp"

namespace sluice::etl {

line_splitter::line_splitter(line_sink sink, std::size_t max_line)
    : sink_(std::move(sink)), max_line_(max_line == 0 ? 1 : max_line) {}

line_splitter::line_splitter(line_sink sink, std::size_t max_line, std::string_view long_prefix,
                             std::size_t long_max)
    : line_splitter(std::move(sink), max_line) {
    long_prefix_ = std::string(long_prefix);
    long_max_ = std::max(long_max, max_line_);
}

std::size_t line_splitter::bound_for(std::string_view next) const {
    if (long_prefix_.empty()) {
        return max_line_;
    }
    const std::string_view prefix(long_prefix_);
    const std::size_t have = std::min(pending_.size(), prefix.size());
    if (std::string_view(pending_).substr(0, have) != prefix.substr(0, have) ||
        next.substr(0, prefix.size() - have) != prefix.substr(have)) {
        return max_line_;
    }
    return long_max_;
}

void line_splitter::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto newline = bytes.find('\n');
        const std::string_view chunk =
            newline == std::string_view::npos ? bytes : bytes.substr(0, newline);
        // Append in pieces that never let pending_ exceed the bound.
        std::string_view rest = chunk;
        while (pending_.size() + rest.size() > bound_for(rest)) {
            const std::size_t room = bound_for(rest) - pending_.size();
            pending_.append(rest.substr(0, room));
            rest.remove_prefix(room);
            emit();
        }
        pending_.append(rest);
        if (newline == std::string_view::npos) {
            return;
        }
        if (!pending_.empty() && pending_.back() == '\r') {
            pending_.pop_back();
        }
        emit();
        bytes.remove_prefix(newline + 1);
    }
}

void line_splitter::finish() {
    if (!pending_.empty()) {
        emit();
    }
}

void line_splitter::emit() {
    std::string line;
    line.swap(pending_);
    sink_(std::move(line));
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

bool valid_metric_name(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    const auto first = static_cast<unsigned char>(name.front());
    if (!std::isalpha(first) && first != '_') {
        return false;
    }
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

}  // namespace

bool is_metric_line(std::string_view line) {
    return trim(line).substr(0, metric_prefix.size()) == metric_prefix;
}

std::optional<metric_sample> parse_metric_line(std::string_view line) {
    line = trim(line);
    if (line.substr(0, metric_prefix.size()) != metric_prefix) {
        return std::nullopt;
    }
    const std::string_view body = trim(line.substr(metric_prefix.size()));
    const auto eq = body.find('=');
    if (eq == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view name = trim(body.substr(0, eq));
    const std::string value_text(trim(body.substr(eq + 1)));
    if (!valid_metric_name(name) || value_text.empty()) {
        return std::nullopt;
    }
    // strtod would accept "nan", "inf" and hex floats; a metric is a plain decimal number.
    for (const char c : value_text) {
        if (!std::isdigit(static_cast<unsigned char>(c)) &&
            std::string_view("+-.eE").find(c) == std::string_view::npos) {
            return std::nullopt;
        }
    }
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(value_text.c_str(), &end);
    if (end != value_text.c_str() + value_text.size() || errno == ERANGE || !std::isfinite(value)) {
        return std::nullopt;
    }
    return metric_sample{std::string(name), value};
}

std::optional<output_line_result> parse_output_line(std::string_view line) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
        line.remove_prefix(1);
    }
    if (line.substr(0, output_prefix.size()) != output_prefix) {
        return std::nullopt;
    }
    const std::string_view body = line.substr(output_prefix.size());
    const auto eq = body.find('=');
    if (eq == std::string_view::npos) {
        return output_line_result{std::nullopt,
                                  "malformed output line: expected '::sluice output NAME=VALUE'"};
    }
    const std::string_view name = trim(body.substr(0, eq));
    const std::string_view value = body.substr(eq + 1);
    if (!config::is_output_name(name)) {
        return output_line_result{std::nullopt, "invalid output name '" +
                                                    std::string(name.substr(0, 80)) +
                                                    "': use 1 to 64 letters, digits and '_'"};
    }
    if (value.size() > config::max_output_value_bytes) {
        return output_line_result{std::nullopt,
                                  "output '" + std::string(name) + "' is longer than " +
                                      std::to_string(config::max_output_value_bytes) +
                                      " bytes (publish a path or a key, not the data)"};
    }
    return output_line_result{output_value{std::string(name), std::string(value)}, std::nullopt};
}

}  // namespace sluice::etl
