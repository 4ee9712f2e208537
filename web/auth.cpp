#include "web/auth.hpp"

#include <algorithm>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/asio/ip/address.hpp>

#include "core/hex.hpp"

namespace sluice::web {

namespace {

std::string sha256_raw(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string from_hex(std::string_view hex) {
    std::string out;
    // Callers pass validated hex (config checks sha256 values); anything else counts as 0.
    auto nibble = [](char c) { return std::max(0, core::hex_digit(c)); };
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
    }
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : sha256_raw(data)) {
        out += digits[c >> 4];
        out += digits[c & 0xf];
    }
    return out;
}

core::result<std::string> generate_token() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        return core::error::permanent("the system random generator failed (OpenSSL RAND_bytes)");
    }
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string token = "sluice_";
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            token += alphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0) {
        token += alphabet[(acc << (6 - bits)) & 0x3f];
    }
    return token;
}

bool allows(config::token_role role, access needs) {
    switch (needs) {
        case access::open:
        case access::viewer:
            return true;
        case access::operator_:
            return role == config::token_role::operator_ || role == config::token_role::admin;
        case access::admin:
            return role == config::token_role::admin;
    }
    return false;
}

token_auth::token_auth(const std::vector<config::token_spec>& tokens) {
    for (const auto& t : tokens) {
        tokens_.push_back(entry{t.name, from_hex(t.sha256), t.role});
    }
}

std::optional<principal> token_auth::authenticate(const std::string* authorization) const {
    if (authorization == nullptr) {
        return std::nullopt;
    }
    std::string_view value = *authorization;
    constexpr std::string_view scheme = "Bearer ";
    if (value.size() <= scheme.size() ||
        !std::equal(scheme.begin(), scheme.end(), value.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
        })) {
        return std::nullopt;
    }
    value.remove_prefix(scheme.size());
    while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    const std::string hash = sha256_raw(value);
    // Compare with every entry (no early exit) so timing does not depend on which one matched.
    const entry* found = nullptr;
    for (const entry& e : tokens_) {
        if (e.hash.size() == hash.size() &&
            CRYPTO_memcmp(e.hash.data(), hash.data(), hash.size()) == 0) {
            found = &e;
        }
    }
    if (found == nullptr) {
        return std::nullopt;
    }
    return principal{found->name, found->role};
}

bool is_loopback_address(std::string_view host) {
    if (host == "localhost") {
        return true;
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) {
        return false;
    }
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
            .is_loopback();
    }
    return address.is_loopback();
}

namespace {

// Tokens in clear on a network, unless the operator says a TLS proxy sits in front.
core::result<void> check_plaintext_tokens(const config::server_spec& server, std::string_view host,
                                          bool tls) {
    if (server.tokens.empty() || tls || server.allow_plaintext_tokens ||
        is_loopback_address(host)) {
        return {};
    }
    return core::error::permanent(
        "the API is bound to " + std::string(host) +
        " (not loopback) over plain HTTP with server.tokens: every token would cross the network "
        "in clear. Configure server.tls {cert, key}, or set server.allow_plaintext_tokens: true "
        "when a TLS-terminating proxy is the only way in (docs/operations.md#tls)");
}

}  // namespace

core::result<void> check_listen_policy(const config::server_spec& server) {
    if (server.tokens.empty()) {
        if (!is_loopback_address(server.host)) {
            return core::error::permanent(
                "server.listen is " + server.listen +
                " but no server.tokens are configured: refusing to serve the API without "
                "authentication on a non-loopback address. Add tokens (`sluice token new NAME "
                "--role admin` prints one) or listen on 127.0.0.1");
        }
        return {};
    }
    return check_plaintext_tokens(server, server.host, server.tls.has_value());
}

core::result<void> check_reload_policy(const config::server_spec& next, std::string_view bound_host,
                                       bool bound_tls) {
    if (next.tokens.empty() && !is_loopback_address(bound_host)) {
        return core::error::permanent(
            "the new config has no server.tokens but the API stays bound to " +
            std::string(bound_host) +
            " (not loopback) until a restart: refusing a reload that would serve it without "
            "authentication. Keep at least one token, or change server.listen and restart");
    }
    return check_plaintext_tokens(next, bound_host, bound_tls);
}

}  // namespace sluice::web
