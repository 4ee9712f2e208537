#include "web/host_check.hpp"

#include <catch2/catch.hpp>

using namespace sluice;
using namespace sluice::web;

namespace {

bool allowed(const config::server_spec& s, bool tokens, const std::string& host) {
    return host_allowed(s, tokens, &host);
}

}  // namespace

TEST_CASE("host_name_of drops the port, brackets, a trailing dot and case", "[web][hosts]") {
    CHECK(host_name_of("127.0.0.1:8080") == "127.0.0.1");
    CHECK(host_name_of("[::1]:8080") == "::1");
    CHECK(host_name_of("[::1]") == "::1");
    CHECK(host_name_of("::1") == "::1");
    CHECK(host_name_of("Sluice.Example.COM.") == "sluice.example.com");
    CHECK(host_name_of(" localhost:80 ") == "localhost");
}

TEST_CASE("loopback names and addresses", "[web][hosts]") {
    CHECK(is_loopback_host("localhost"));
    CHECK(is_loopback_host("app.localhost"));
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.1.2.3"));
    CHECK(is_loopback_host("::1"));
    CHECK_FALSE(is_loopback_host("127.0.0.1.evil.example"));
    CHECK_FALSE(is_loopback_host("127.0.0"));
    CHECK_FALSE(is_loopback_host("localhost.evil.example"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
}

TEST_CASE("without tokens only loopback and public_url's host are answered (DNS rebinding)",
          "[web][hosts]") {
    config::server_spec s;
    CHECK(allowed(s, false, "127.0.0.1:8080"));
    CHECK(allowed(s, false, "localhost:8080"));
    CHECK(allowed(s, false, "[::1]:8080"));
    CHECK_FALSE(allowed(s, false, "attacker.example:8080"));
    CHECK_FALSE(allowed(s, false, ""));
    CHECK(host_allowed(s, false, nullptr));  // HTTP/1.0 without Host: no browser sends that
    s.public_url = "https://user@Sluice.Internal:8443/base";
    CHECK(allowed(s, false, "sluice.internal"));
    CHECK(allowed(s, false, "sluice.internal:8443"));
    CHECK_FALSE(allowed(s, false, "other.internal"));
    s.allowed_hosts = {"ops.example"};
    CHECK(allowed(s, false, "OPS.example:8080"));
    CHECK_FALSE(allowed(s, false, "attacker.example"));
}

TEST_CASE("with tokens any host is answered unless allowed_hosts narrows it", "[web][hosts]") {
    config::server_spec s;
    CHECK(allowed(s, true, "sluice.example.com"));
    s.allowed_hosts = {"sluice.example.com"};
    CHECK(allowed(s, true, "sluice.example.com:8080"));
    CHECK(allowed(s, true, "127.0.0.1"));
    CHECK_FALSE(allowed(s, true, "attacker.example"));
    s.allowed_hosts = {"*"};
    CHECK(allowed(s, true, "attacker.example"));
    CHECK(allowed(s, false, "attacker.example"));
}
