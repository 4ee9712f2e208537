#include "connectors/connection_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "config/spec.hpp"
#include "core/hex.hpp"
#include "core/redact.hpp"

namespace sluice::connectors {

namespace {

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        const int hi = i + 1 < s.size() ? core::hex_digit(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? core::hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

}  // namespace

std::optional<std::string> connection_url::query_value(std::string_view key) const {
    for (const auto& [k, v] : query) {
        if (k == key) {
            return v;
        }
    }
    return std::nullopt;
}

core::result<connection_url> parse_connection_url(std::string_view url) {
    auto bad = [&](const std::string& why) {
        return core::error::permanent("invalid database url '" + core::redact_url(url) +
                                      "': " + why);
    };
    connection_url out;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
        // Not shown: without "scheme://" the password cannot be told apart to redact it.
        return core::error::permanent(
            "invalid database url: expected scheme://[user[:password]@]host[:port]/database");
    }
    out.scheme = std::string(url.substr(0, scheme_end));
    std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view rest = url.substr(scheme_end + 3);
    const auto authority_end = rest.find_first_of("/?#");
    // An '@' after the authority, in a URL whose userinfo (what is before its '@', or the whole
    // authority when it has none) holds a ':', is a password holding '/', '?', '#' or '@'
    // unescaped: read as written, part of it would become a host name, a path or a query, and
    // drivers echo those in their errors.
    if (const auto last_at = rest.rfind('@'); authority_end != std::string_view::npos &&
                                              last_at != std::string_view::npos &&
                                              last_at > authority_end) {
        const std::string_view head = rest.substr(0, authority_end);
        const std::string_view userinfo = head.substr(0, std::min(head.rfind('@'), head.size()));
        if (userinfo.find(':') != std::string_view::npos) {
            return bad(
                "the user name or password holds '/', '?', '#' or '@' (or the url holds another "
                "'@'); percent-encode them in the url: %2F, %3F, %23, %40");
        }
    }
    std::string_view authority = rest.substr(0, authority_end);
    rest =
        authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

    // The last '@' ends the userinfo: passwords often hold an unescaped '@'.
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        authority.remove_prefix(at + 1);
        const auto colon = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, colon));
        if (!user) {
            return bad("bad percent-encoding in the user name");
        }
        out.user = *user;
        if (colon != std::string_view::npos) {
            auto password = percent_decode(userinfo.substr(colon + 1));
            if (!password) {
                return bad("bad percent-encoding in the password");
            }
            out.password = *password;
        }
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return bad("unterminated [IPv6 address]");
        }
        out.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return bad("expected ':port' after the IPv6 address");
            }
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
        }
    }
    if (!port_text.empty()) {
        int port = 0;
        const auto [ptr, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 ||
            port > 65535) {
            return bad("the port must be a number from 1 to 65535");
        }
        out.port = port;
    }
    const auto query_begin = rest.find('?');
    std::string_view path = rest.substr(0, query_begin);
    const auto fragment = path.find('#');
    path = path.substr(0, fragment);
    if (!path.empty() && path.front() == '/') {
        path.remove_prefix(1);
    }
    auto database = percent_decode(path);
    if (!database) {
        return bad("bad percent-encoding in the database name");
    }
    out.database = *database;
    if (query_begin != std::string_view::npos) {
        std::string_view query = rest.substr(query_begin + 1);
        query = query.substr(0, query.find('#'));
        while (!query.empty()) {
            const auto amp = query.find('&');
            const std::string_view pair = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
            if (pair.empty()) {
                continue;
            }
            const auto eq = pair.find('=');
            auto key = percent_decode(pair.substr(0, eq));
            auto value = percent_decode(eq == std::string_view::npos ? std::string_view()
                                                                     : pair.substr(eq + 1));
            if (!key || !value) {
                return bad("bad percent-encoding in the query");
            }
            out.query.emplace_back(*key, *value);
        }
    }
    return out;
}

std::string scrub_secret(std::string text, const std::optional<std::string>& secret) {
    if (!secret || secret->empty()) {
        return text;
    }
    std::size_t pos = 0;
    while ((pos = text.find(*secret, pos)) != std::string::npos) {
        text.replace(pos, secret->size(), "***");
        pos += 3;
    }
    return text;
}

}  // namespace sluice::connectors
