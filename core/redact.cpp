#include "core/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace sluice::core {
namespace {

constexpr std::string_view hidden = "***";

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Hides the values of secret parameters in `text`, whose parameters are separated by any of
// `separators` and split into name and value by '='.
std::string redact_parameters(std::string_view text, std::string_view separators) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find_first_of(separators, pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view param = text.substr(pos, end - pos);
        const auto eq = param.find('=');
        if (eq != std::string_view::npos && is_secret_parameter(param.substr(0, eq))) {
            out += param.substr(0, eq + 1);
            out += hidden;
        } else {
            out += param;
        }
        if (end < text.size()) {
            out += text[end];
        }
        pos = end + 1;
    }
    return out;
}

// libpq's "host=db user=etl password='a b'": a quoted value may hold spaces, so the value of a
// secret key runs to its closing quote.
std::string redact_conninfo(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto eq = text.find('=', pos);
        if (eq == std::string_view::npos) {
            out += text.substr(pos);
            break;
        }
        std::size_t name_end = eq;
        while (name_end > pos && std::isspace(static_cast<unsigned char>(text[name_end - 1]))) {
            --name_end;
        }
        std::size_t name_begin = name_end;
        while (name_begin > pos &&
               !std::isspace(static_cast<unsigned char>(text[name_begin - 1]))) {
            --name_begin;
        }
        std::size_t value_begin = eq + 1;
        while (value_begin < text.size() &&
               std::isspace(static_cast<unsigned char>(text[value_begin]))) {
            ++value_begin;
        }
        std::size_t value_end = value_begin;
        if (value_end < text.size() && text[value_end] == '\'') {
            ++value_end;
            while (value_end < text.size() && text[value_end] != '\'') {
                value_end += text[value_end] == '\\' ? 2 : 1;
            }
            value_end = std::min(value_end + 1, text.size());
        } else {
            while (value_end < text.size() &&
                   !std::isspace(static_cast<unsigned char>(text[value_end]))) {
                ++value_end;
            }
        }
        out += text.substr(pos, value_begin - pos);
        if (is_secret_parameter(text.substr(name_begin, name_end - name_begin))) {
            out += hidden;
        } else {
            out += text.substr(value_begin, value_end - value_begin);
        }
        pos = value_end;
    }
    return out;
}

}  // namespace

bool is_secret_parameter(std::string_view name) {
    static constexpr std::array<std::string_view, 9> secret_names = {
        "password", "passwd", "pwd", "sslpassword", "secret", "token", "api_key", "apikey", "key"};
    const std::string n = lower(name);
    return std::find(secret_names.begin(), secret_names.end(), n) != secret_names.end();
}

std::string redact_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return url.find('=') == std::string_view::npos ? std::string(url) : redact_conninfo(url);
    }
    const std::size_t authority = scheme_end + 3;
    std::string out(url.substr(0, authority));
    std::size_t rest = authority;
    // The userinfo ends at the last '@' of the whole text; its password starts after its
    // first ':'.
    const auto at = url.rfind('@');
    if (at != std::string_view::npos && at >= authority) {
        const auto colon = url.find(':', authority);
        if (colon != std::string_view::npos && colon < at) {
            out += url.substr(authority, colon + 1 - authority);
            out += hidden;
            rest = at;
        }
    }
    // The query starts at the first '?' after the userinfo; a fragment is kept as written.
    const auto query = url.find('?', rest);
    if (query == std::string_view::npos) {
        out += url.substr(rest);
        return out;
    }
    auto fragment = url.find('#', query);
    if (fragment == std::string_view::npos) {
        fragment = url.size();
    }
    out += url.substr(rest, query + 1 - rest);
    out += redact_parameters(url.substr(query + 1, fragment - query - 1), "&;");
    out += url.substr(fragment);
    return out;
}

}  // namespace sluice::core
