#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace sluice::connectors {

// The parts of "scheme://user:password@host:port/database?key=value&...", percent-decoded.
// The host may be an [IPv6] literal (kept without brackets); every part may be absent.
struct connection_url {
    std::string scheme;  // lower case, without "://"
    std::string user;
    std::optional<std::string> password;  // secret: never log or put in messages
    std::string host;
    std::optional<int> port;
    std::string database;
    std::vector<std::pair<std::string, std::string>> query;

    // The value of a query parameter, nullopt when absent.
    std::optional<std::string> query_value(std::string_view key) const;
};

// Parses a database url. Errors show the url with its password redacted.
core::result<connection_url> parse_connection_url(std::string_view url);

// Replaces every occurrence of `secret` in `text` with "***" (driver messages may echo what they
// were given); an empty secret leaves the text alone.
std::string scrub_secret(std::string text, const std::optional<std::string>& secret);

}  // namespace sluice::connectors
