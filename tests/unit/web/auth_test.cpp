#include "web/auth.hpp"

#include <catch2/catch.hpp>

using namespace sluice;
using namespace sluice::web;

TEST_CASE("sha256_hex matches the FIPS 180-2 test vector", "[web][auth]") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("generated tokens are distinct and prefixed and 256 bits long", "[web][auth]") {
    auto a = generate_token();
    auto b = generate_token();
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(*a != *b);
    CHECK(a->starts_with("sluice_"));
    CHECK(a->size() == 7 + 43);
}

TEST_CASE("bearer tokens authenticate by hash and carry their role", "[web][auth]") {
    std::vector<config::token_spec> tokens{
        {"ci", sha256_hex("secret-ci"), config::token_role::operator_},
        {"root", sha256_hex("secret-root"), config::token_role::admin}};
    token_auth auth(tokens);
    REQUIRE(auth.enabled());
    const std::string good = "Bearer secret-ci";
    auto p = auth.authenticate(&good);
    REQUIRE(p);
    CHECK(p->name == "ci");
    CHECK(p->role == config::token_role::operator_);
    const std::string lower = "bearer secret-root";
    REQUIRE(auth.authenticate(&lower));
    CHECK(auth.authenticate(&lower)->name == "root");

    const std::string wrong = "Bearer secret-c";
    const std::string basic = "Basic c2VjcmV0LWNp";
    const std::string empty = "Bearer ";
    CHECK_FALSE(auth.authenticate(nullptr));
    CHECK_FALSE(auth.authenticate(&wrong));
    CHECK_FALSE(auth.authenticate(&basic));
    CHECK_FALSE(auth.authenticate(&empty));
}

TEST_CASE("roles are ordered viewer < operator < admin", "[web][auth]") {
    using config::token_role;
    CHECK(allows(token_role::viewer, access::viewer));
    CHECK_FALSE(allows(token_role::viewer, access::operator_));
    CHECK_FALSE(allows(token_role::viewer, access::admin));
    CHECK(allows(token_role::operator_, access::operator_));
    CHECK_FALSE(allows(token_role::operator_, access::admin));
    CHECK(allows(token_role::admin, access::admin));
    CHECK(allows(token_role::admin, access::operator_));
}

TEST_CASE("without tokens only a loopback listen address is accepted", "[web][auth]") {
    config::server_spec s;
    s.host = "127.0.0.1";
    CHECK(check_listen_policy(s).has_value());
    s.host = "::1";
    CHECK(check_listen_policy(s).has_value());
    s.host = "0.0.0.0";
    s.listen = "0.0.0.0:8080";
    auto refused = check_listen_policy(s);
    REQUIRE_FALSE(refused.has_value());
    CHECK_THAT(refused.error().message, Catch::Matchers::Contains("no server.tokens"));
    s.tokens.push_back({"ops", sha256_hex("x"), config::token_role::viewer});
    s.tls = config::tls_spec{"cert.pem", "key.pem"};
    CHECK(check_listen_policy(s).has_value());
}

TEST_CASE("tokens over plain HTTP on a non-loopback address need allow_plaintext_tokens",
          "[web][auth][tls]") {
    config::server_spec s;
    s.host = "0.0.0.0";
    s.listen = "0.0.0.0:8080";
    s.tokens.push_back({"ops", sha256_hex("x"), config::token_role::viewer});
    auto refused = check_listen_policy(s);
    REQUIRE_FALSE(refused.has_value());
    CHECK_THAT(refused.error().message,
               Catch::Matchers::Contains("over plain HTTP with server.tokens") &&
                   Catch::Matchers::Contains("server.tls") &&
                   Catch::Matchers::Contains("allow_plaintext_tokens"));
    s.allow_plaintext_tokens = true;
    CHECK(check_listen_policy(s).has_value());
    s.allow_plaintext_tokens = false;
    s.tls = config::tls_spec{"cert.pem", "key.pem"};
    CHECK(check_listen_policy(s).has_value());
    s.tls.reset();
    s.host = "127.0.0.1";  // tokens on loopback never cross a network
    CHECK(check_listen_policy(s).has_value());

    // A reload is judged by the socket as bound: its address and whether it speaks TLS.
    config::server_spec next;
    next.host = "127.0.0.1";
    next.tokens = s.tokens;
    next.tls = config::tls_spec{"cert.pem", "key.pem"};  // the file says TLS; the socket does not
    CHECK_FALSE(sluice::web::check_reload_policy(next, "0.0.0.0", false).has_value());
    CHECK(sluice::web::check_reload_policy(next, "0.0.0.0", true).has_value());
    CHECK(sluice::web::check_reload_policy(next, "127.0.0.1", false).has_value());
    next.allow_plaintext_tokens = true;
    CHECK(sluice::web::check_reload_policy(next, "0.0.0.0", false).has_value());
}

TEST_CASE("loopback hosts and the reload policy checked against the bound address", "[web][auth]") {
    for (const char* host :
         {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"}) {
        INFO(host);
        CHECK(sluice::web::is_loopback_address(host));
    }
    for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "127.example.com", "", "localhost.x"}) {
        INFO(host);
        CHECK_FALSE(sluice::web::is_loopback_address(host));
    }
    sluice::config::server_spec next;
    next.host = "127.0.0.1";  // the new file says loopback; the socket stays where it is
    CHECK(sluice::web::check_reload_policy(next, "127.0.0.1", false).has_value());
    const auto refused = sluice::web::check_reload_policy(next, "0.0.0.0", false);
    REQUIRE_FALSE(refused.has_value());
    CHECK_THAT(refused.error().message, Catch::Contains("stays bound to 0.0.0.0"));
    next.tokens.push_back(sluice::config::token_spec{});
    next.allow_plaintext_tokens = true;
    CHECK(sluice::web::check_reload_policy(next, "0.0.0.0", false).has_value());
}
