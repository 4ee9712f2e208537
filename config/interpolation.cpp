#include "config/interpolation.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace sluice::config {
namespace {

constexpr std::string_view env_prefix = "${env:";
constexpr std::string_view file_prefix = "${file:";

bool is_env_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    for (char c : name) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Reads a regular file of at most max_interpolated_file_bytes; the error names the path only.
std::optional<std::string> read_small_file(const std::filesystem::path& path, std::string& error) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec) {
        error = ec.message();
        return std::nullopt;
    }
    if (!std::filesystem::is_regular_file(status)) {
        error = "not a regular file";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = std::strerror(errno);
        return std::nullopt;
    }
    std::string data;
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        data.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (data.size() > max_interpolated_file_bytes) {
            error = "larger than " + std::to_string(max_interpolated_file_bytes) + " bytes";
            return std::nullopt;
        }
    }
    if (in.bad()) {
        error = "read error";
        return std::nullopt;
    }
    return data;
}

std::string too_long(const interpolation_source& source) {
    return "placeholders expand to more than " + std::to_string(source.max_output_bytes) +
           " bytes (the bound for a whole configuration is " +
           std::to_string(max_interpolated_bytes) + ")";
}

}  // namespace

bool needs_interpolation(std::string_view raw) {
    return raw.find("${") != std::string_view::npos;
}

interpolation_result interpolate(std::string_view raw, const interpolation_source& source) {
    interpolation_result out;
    std::size_t i = 0;
    while (i < raw.size()) {
        if (raw.substr(i, 3) == "$${") {
            out.text += "${";
            i += 3;
            continue;
        }
        const bool is_env = raw.substr(i, env_prefix.size()) == env_prefix;
        const bool is_file = !is_env && raw.substr(i, file_prefix.size()) == file_prefix;
        if (!is_env && !is_file) {
            out.text += raw[i];
            ++i;
            continue;
        }
        const std::size_t start = i;
        const std::size_t arg_begin = i + (is_env ? env_prefix.size() : file_prefix.size());
        const std::size_t close = raw.find('}', arg_begin);
        const std::string_view kind = is_env ? "${env:" : "${file:";
        if (close == std::string_view::npos) {
            out.errors.push_back({start, "unterminated '" + std::string(kind) +
                                             "' placeholder: add the closing '}'"});
            break;
        }
        const std::string arg(raw.substr(arg_begin, close - arg_begin));
        const std::string placeholder(raw.substr(start, close + 1 - start));
        i = close + 1;
        out.interpolated = true;
        if (is_env) {
            if (!is_env_name(arg)) {
                out.errors.push_back({start, "invalid environment variable name in '" +
                                                 placeholder +
                                                 "' (expected letters, digits and '_')"});
                continue;
            }
            std::optional<std::string> value;
            if (source.getenv) {
                value = source.getenv(arg);
            }
            if (!value) {
                out.errors.push_back({start, "environment variable '" + arg +
                                                 "' is not set (used by " + placeholder + ")"});
                continue;
            }
            out.text += *value;
            if (out.text.size() > source.max_output_bytes) {
                out.errors.push_back({start, too_long(source)});
                break;
            }
            continue;
        }
        if (arg.empty()) {
            out.errors.push_back({start, "empty path in '${file:}'"});
            continue;
        }
        std::filesystem::path path(arg);
        if (path.is_relative()) {
            path = source.base_dir / path;
        }
        file_read read;
        if (source.files != nullptr && source.files->count(path) != 0) {
            read = source.files->at(path);
        } else {
            read.content = read_small_file(path, read.error);
            if (source.files != nullptr) {
                (*source.files)[path] = read;
            }
        }
        if (!read.content) {
            out.errors.push_back({start, "cannot read '" + path.string() + "' for " + placeholder +
                                             ": " + read.error});
            continue;
        }
        std::optional<std::string>& content = read.content;
        if (!content->empty() && content->back() == '\n') {
            content->pop_back();
            if (!content->empty() && content->back() == '\r') {
                content->pop_back();
            }
        }
        out.text += *content;
        if (out.text.size() > source.max_output_bytes) {
            out.errors.push_back({start, too_long(source)});
            break;
        }
    }
    return out;
}

}  // namespace sluice::config
