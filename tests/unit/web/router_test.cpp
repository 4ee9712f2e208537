#include "web/router.hpp"

#include <catch2/catch.hpp>

#include "web/http_server.hpp"

using namespace sluice::web;

namespace {
router sample() {
    router r;
    auto noop = [](request_context&, responder) {};
    r.add("GET", "/api/v1/jobs", access::viewer, noop);
    r.add("GET", "/api/v1/jobs/{job}", access::viewer, noop);
    r.add("POST", "/api/v1/jobs/{job}/runs", access::operator_, noop);
    r.add("PUT", "/api/v1/variables/{key}", access::admin, noop);
    r.add("DELETE", "/api/v1/variables/{key}", access::admin, noop);
    return r;
}
}  // namespace

TEST_CASE("router matches literal and parameter segments", "[web][router]") {
    const router r = sample();
    auto m = r.match("GET", "/api/v1/jobs/nightly");
    REQUIRE(m.found != nullptr);
    CHECK(m.found->pattern == "/api/v1/jobs/{job}");
    CHECK(m.params.at("job") == "nightly");
    CHECK_FALSE(m.found->audited);
    auto post = r.match("POST", "/api/v1/jobs/nightly/runs");
    REQUIRE(post.found != nullptr);
    CHECK(post.found->audited);
    CHECK(post.found->needs == access::operator_);
}

TEST_CASE("router reports the allowed methods of a known path for 405", "[web][router]") {
    const router r = sample();
    auto m = r.match("POST", "/api/v1/variables/x");
    CHECK(m.found == nullptr);
    CHECK(m.allowed == std::vector<std::string>{"PUT", "DELETE"});
}

TEST_CASE("router does not match unknown paths or empty segments or extra slashes",
          "[web][router]") {
    const router r = sample();
    CHECK(r.match("GET", "/api/v1/nothing").found == nullptr);
    CHECK(r.match("GET", "/api/v1/nothing").allowed.empty());
    CHECK(r.match("GET", "/api/v1/jobs/").found == nullptr);
    CHECK(r.match("GET", "/api/v1//jobs").found == nullptr);
    CHECK(r.match("GET", "api/v1/jobs").found == nullptr);
    CHECK(r.match("GET", "").found == nullptr);
}

TEST_CASE("request targets are percent-decoded into path and query", "[web][router]") {
    std::string path;
    std::map<std::string, std::string> query;
    REQUIRE(parse_target("/api/v1/jobs/a%20b?state=failed&limit=5&job=x+y&flag", path, query));
    CHECK(path == "/api/v1/jobs/a b");
    CHECK(query.at("state") == "failed");
    CHECK(query.at("limit") == "5");
    CHECK(query.at("job") == "x y");
    CHECK(query.at("flag").empty());
}

TEST_CASE("malformed request targets are refused", "[web][router]") {
    std::string path;
    std::map<std::string, std::string> query;
    CHECK_FALSE(parse_target("http://example.com/", path, query));
    CHECK_FALSE(parse_target("/a%2", path, query));
    CHECK_FALSE(parse_target("/a%zz", path, query));
    CHECK_FALSE(parse_target("/a?x=%", path, query));
    CHECK_FALSE(parse_target("", path, query));
}

TEST_CASE("header values never carry CR or LF or NUL", "[web][router]") {
    CHECK(header_safe("a\r\nSet-Cookie: x") == "aSet-Cookie: x");
    CHECK(header_safe(std::string("a\0b", 3)) == "ab");
    CHECK(header_safe("plain") == "plain");
}
