#pragma once

// Bearer tokens from `server.tokens` (docs/api.md#authentication): the config holds only the
// SHA-256 of each token; a request's token is hashed and compared in constant time with every
// configured hash, so the time taken reveals neither which token nor how much of it matched.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"
#include "core/error.hpp"
#include "web/router.hpp"

namespace sluice::web {

struct principal {
    std::string name;
    config::token_role role = config::token_role::viewer;
};

// Lower-case hex SHA-256 (OpenSSL).
std::string sha256_hex(std::string_view data);

// A fresh token: "sluice_" + 43 base64url characters (256 random bits from OpenSSL's CSPRNG).
core::result<std::string> generate_token();

// True when `role` may use a route that needs `needs`.
bool allows(config::token_role role, access needs);

class token_auth {
public:
    explicit token_auth(const std::vector<config::token_spec>& tokens);

    // No tokens configured: every request is anonymous and allowed (loopback only; see
    // check_listen_policy).
    bool enabled() const { return !tokens_.empty(); }
    // The principal for an `Authorization` header value, or nullopt (missing, not Bearer,
    // unknown token).
    std::optional<principal> authenticate(const std::string* authorization) const;

private:
    struct entry {
        std::string name;
        std::string hash;  // 32 raw bytes
        config::token_role role;
    };
    std::vector<entry> tokens_;
};

// True for `localhost` and any loopback IP address (127.0.0.0/8, ::1, ::ffff:127.x): the
// address a socket is bound to (host_check.hpp judges Host headers).
bool is_loopback_address(std::string_view host);

// Refuses a non-loopback listen address without tokens (an open API on the network), and one
// with tokens over plain HTTP unless server.allow_plaintext_tokens (tokens in clear).
core::result<void> check_listen_policy(const config::server_spec& server);

// A reload keeps the socket bound at startup (server.listen needs a restart), so a reloaded
// configuration without tokens is refused while `bound_host` (the address actually bound, not
// the one in the new file) is not loopback: otherwise a reload could open the API to the network
// (docs/operations.md#reload). Likewise tokens over the bound plain-HTTP socket (`bound_tls`
// false) need server.allow_plaintext_tokens in the new file.
core::result<void> check_reload_policy(const config::server_spec& next, std::string_view bound_host,
                                       bool bound_tls);

}  // namespace sluice::web
