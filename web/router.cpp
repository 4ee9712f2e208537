#include "web/router.hpp"

namespace sluice::web {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/') {
        return out;
    }
    path.remove_prefix(1);
    while (true) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return out;
}

void router::add(std::string method, std::string pattern, access needs, route_handler handler) {
    const bool mutating = method != "GET" && method != "HEAD";
    routes_.push_back(
        route{std::move(method), std::move(pattern), needs, mutating, std::move(handler)});
}

router::match_result router::match(std::string_view method, std::string_view path) const {
    match_result result;
    const auto segments = split_path(path);
    if (segments.empty()) {
        return result;
    }
    for (const route& r : routes_) {
        const auto pattern = split_path(r.pattern);
        if (pattern.size() != segments.size()) {
            continue;
        }
        route_params params;
        bool ok = true;
        for (std::size_t i = 0; i < pattern.size() && ok; ++i) {
            const auto p = pattern[i];
            if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
                ok = !segments[i].empty();
                params.values[std::string(p.substr(1, p.size() - 2))] = std::string(segments[i]);
            } else {
                ok = p == segments[i];
            }
        }
        if (!ok) {
            continue;
        }
        if (r.method == method) {
            result.found = &r;
            result.params = std::move(params);
            return result;
        }
        result.allowed.push_back(r.method);
    }
    return result;
}

std::string header_safe(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c != '\r' && c != '\n' && c != '\0') {
            out += c;
        }
    }
    return out;
}

}  // namespace sluice::web
