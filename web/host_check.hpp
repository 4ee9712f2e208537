#pragma once

// Which `Host` headers the server answers to (docs/api.md#hosts). A browser sends the name it
// resolved, so checking it stops a foreign page from reading the API through DNS rebinding
// (attacker.example resolving to 127.0.0.1): such requests carry Host: attacker.example.

#include <string>
#include <string_view>

#include "config/spec.hpp"

namespace sluice::web {

// The host part of a Host header value: lower case, without port, brackets or a trailing dot.
std::string host_name_of(std::string_view host_header);

// True for "localhost", "*.localhost", 127.0.0.0/8 and ::1.
bool is_loopback_host(std::string_view host);

// Loopback names and addresses and public_url's host are always answered; then
// `server.allowed_hosts` ("*" = any); without it, any host when tokens are configured (a
// browser never sends a bearer token by itself), none other without tokens. A request without
// a Host header (HTTP/1.0) is answered: browsers always send one.
bool host_allowed(const config::server_spec& server, bool tokens_enabled,
                  const std::string* host_header);

}  // namespace sluice::web
