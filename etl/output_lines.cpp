#include "etl/output_lines.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace sluice::etl {

line_splitter::line_splitter(line_sink sink, std::size_t max_line)
    : sink_(std::move(sink)), max_line_(max_line == 0 ? 1 : max_line) {}

void line_splitter::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto newline = bytes.find('\n');
        const std::string_view chunk =
            newline == std::string_view::npos ? bytes : bytes.substr(0, newline);
        // Append in pieces that never let pending_ exceed the bound.
        std::string_view rest = chunk;
        while (pending_.size() + rest.size() > max_line_) {
            const std::size_t room = max_line_ - pending_.size();
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

}  // namespace sluice::etl
