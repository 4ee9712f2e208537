#include "web/host_check.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::web {

std::string host_name_of(std::string_view host_header) {
    std::string_view h = host_header;
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) {
        h.remove_prefix(1);
    }
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) {
        h.remove_suffix(1);
    }
    if (h.starts_with('[')) {
        const auto close = h.find(']');
        h = close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1);
    } else if (const auto colon = h.find(':'); colon != std::string_view::npos &&
                                               h.find(':', colon + 1) == std::string_view::npos) {
        h = h.substr(0, colon);
    }
    if (h.ends_with('.')) {
        h.remove_suffix(1);
    }
    std::string out(h);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return out;
}

namespace {

bool is_ipv4_loopback(std::string_view h) {
    if (!h.starts_with("127.")) {
        return false;
    }
    int dots = 0;
    int digits = 0;
    for (char c : h) {
        if (c == '.') {
            if (digits == 0 || digits > 3) {
                return false;
            }
            ++dots;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            ++digits;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0 && digits <= 3;
}

// The host of an http(s) URL, as host_name_of normalizes it.
std::string url_host(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) {
        return {};
    }
    url.remove_prefix(scheme + 3);
    url = url.substr(0, url.find_first_of("/?#"));
    if (const auto at = url.rfind('@'); at != std::string_view::npos) {
        url.remove_prefix(at + 1);
    }
    return host_name_of(url);
}

}  // namespace

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host.ends_with(".localhost") || host == "::1" ||
           is_ipv4_loopback(host);
}

bool host_allowed(const config::server_spec& server, bool tokens_enabled,
                  const std::string* host_header) {
    if (host_header == nullptr) {
        return true;
    }
    const std::string host = host_name_of(*host_header);
    if (host.empty()) {
        return false;
    }
    if (is_loopback_host(host)) {
        return true;
    }
    if (!server.public_url.empty() && host == url_host(server.public_url)) {
        return true;
    }
    for (const auto& allowed : server.allowed_hosts) {
        if (allowed == "*" || allowed == host) {
            return true;
        }
    }
    return server.allowed_hosts.empty() && tokens_enabled;
}

}  // namespace sluice::web
