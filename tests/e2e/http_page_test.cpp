// End-to-end: the admin page served by the real `sluice serve` (docs/ui.md) and the rules that
// keep a foreign web page from acting through the operator's browser (docs/api.md#browsers):
// the JSON content type on every mutating call, the Host check against DNS rebinding, and the
// security headers on page responses.
#include <regex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_api_support.hpp"
#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace sluice::test;

namespace {

std::string raw_request(const std::string& method, const std::string& target,
                        const std::string& host, const std::string& extra = "",
                        const std::string& body = "") {
    return method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" +
           extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::pair<std::string, std::string> token_for(const std::string& name, const std::string& role) {
    auto r = run_sluice({"token", "new", name, "--role", role});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() >= 3);
    return {out[0].substr(7), out.back()};
}

void check_page_headers(http_reply& r) {
    CHECK_THAT(r.headers["content-security-policy"], Contains("default-src 'self'"));
    CHECK_THAT(r.headers["content-security-policy"], Contains("frame-ancestors 'none'"));
    CHECK_THAT(r.headers["content-security-policy"], !Contains("unsafe-inline"));
    CHECK(r.headers["x-content-type-options"] == "nosniff");
    CHECK(r.headers["referrer-policy"] == "no-referrer");
}

}  // namespace

#if SLUICE_UI_EMBEDDED
TEST_CASE(
    "the page is served at / with a strict CSP, ETag, gzip, immutable hashed assets and deep "
    "links",
    "[e2e][http][page]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    auto index = http_call(d.port(), "GET", "/");
    REQUIRE(index.status == 200);
    CHECK_THAT(index.headers["content-type"], StartsWith("text/html"));
    CHECK(index.headers["cache-control"] == "no-cache");
    check_page_headers(index);
    const std::string etag = index.headers["etag"];
    CHECK_THAT(etag, StartsWith("\""));
    // No inline script: the only scripts are files of the page's own.
    CHECK_THAT(index.body, !Contains("<script>"));
    std::smatch script;
    REQUIRE(
        std::regex_search(index.body, script, std::regex("src=\"(/assets/main-[A-Z0-9]+\\.js)\"")));
    std::smatch style;
    REQUIRE(std::regex_search(index.body, style,
                              std::regex("href=\"(/assets/style-[A-Z0-9]+\\.css)\"")));

    auto js = http_call(d.port(), "GET", script[1].str());
    REQUIRE(js.status == 200);
    CHECK_THAT(js.headers["content-type"], StartsWith("text/javascript"));
    CHECK(js.headers["cache-control"] == "public, max-age=31536000, immutable");
    check_page_headers(js);
    CHECK(js.body.size() > 1000);
    auto gz = http_call(d.port(), "GET", style[1].str(), "", {{"Accept-Encoding", "br, gzip"}});
    REQUIRE(gz.status == 200);
    CHECK(gz.headers["content-encoding"] == "gzip");
    CHECK(gz.headers["vary"] == "Accept-Encoding");
    REQUIRE(gz.body.size() > 2);
    CHECK(static_cast<unsigned char>(gz.body[0]) == 0x1f);
    CHECK(static_cast<unsigned char>(gz.body[1]) == 0x8b);
    CHECK(http_call(d.port(), "GET", style[1].str(), "", {{"Accept-Encoding", "gzip;q=0"}})
              .headers.count("content-encoding") == 0);

    auto again = http_call(d.port(), "GET", "/", "", {{"If-None-Match", etag}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());

    // A pasted deep link opens the page, which routes it; other unknown paths stay JSON 404s.
    for (const char* link :
         {"/jobs", "/jobs/hello/trigger", "/runs/7/tasks/greet/log", "/overview", "/index.html"}) {
        INFO(link);
        auto r = http_call(d.port(), "GET", link);
        CHECK(r.status == 200);
        CHECK(r.body == index.body);
    }
    auto missing = http_call(d.port(), "GET", "/assets/main-NOPE.js");
    CHECK(missing.status == 404);
    CHECK(error_code(missing) == "not_found");
    CHECK(http_call(d.port(), "GET", "/wp-admin").status == 404);
    CHECK(http_call(d.port(), "POST", "/jobs").status == 404);
    // The API next to it is unchanged.
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs").status == 200);
}
#else
TEST_CASE("a headless build (-DSLUICE_UI=OFF) serves no page and says so", "[e2e][http][page]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    // The page's own paths (a notification links to /runs/{id}) name the build and the API.
    for (const std::string path : {"/", "/index.html", "/jobs", "/runs/7/tasks/load"}) {
        INFO(path);
        auto r = http_call(d.port(), "GET", path);
        CHECK(r.status == 404);
        CHECK_THAT(r.headers["content-type"], StartsWith("text/plain"));
        CHECK_THAT(r.body, Contains("without its admin page (cmake -DSLUICE_UI=OFF)"));
        CHECK_THAT(r.body, Contains("/api/v1/"));
        check_page_headers(r);
    }
    auto api = http_call(d.port(), "GET", "/api/v1/nope");
    CHECK(api.status == 404);
    CHECK_THAT(api.headers["content-type"], StartsWith("application/json"));
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs").status == 200);
}
#endif

TEST_CASE(
    "a cross-site form post is refused: every POST, PUT and DELETE needs the JSON type, empty "
    "bodies included (415)",
    "[e2e][http][browser]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    const std::string host = "127.0.0.1:" + std::to_string(d.port());
    // What an HTML form on a foreign site can send: urlencoded, multipart or text/plain.
    for (const std::string type :
         {"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"}) {
        INFO(type);
        auto r = http_raw(d.port(), raw_request("POST", "/api/v1/jobs/hello/runs", host,
                                                "Content-Type: " + type + "\r\n", "who=x"));
        CHECK(r.status == 415);
    }
    auto bare = http_raw(d.port(), raw_request("POST", "/api/v1/jobs/hello/pause", host));
    CHECK(bare.status == 415);
    CHECK_THAT(bare.body, Contains("Content-Type: application/json"));
    CHECK(http_raw(d.port(), raw_request("POST", "/api/v1/runs/1/cancel", host)).status == 415);
    CHECK(http_raw(d.port(), raw_request("DELETE", "/api/v1/variables/k", host)).status == 415);
    auto jobs = body_of(http_call(d.port(), "GET", "/api/v1/jobs"));
    CHECK(jobs["jobs"][0]["paused"] == false);  // nothing above went through

    auto typed = http_raw(d.port(), raw_request("POST", "/api/v1/jobs/hello/pause", host,
                                                "Content-Type: application/json\r\n"));
    CHECK(typed.status == 200);
    // The CLI sends the type on its empty-bodied calls too.
    auto cli = run_sluice({"jobs", "unpause", "hello", "--server", "http://" + host});
    INFO(cli.out << cli.err);
    CHECK(cli.exit_code == 0);
}

TEST_CASE(
    "a request naming a foreign Host is refused with 421 (DNS rebinding), loopback and "
    "public_url's host are answered",
    "[e2e][http][browser]") {
    http_daemon d(sqlite_config("  public_url: \"http://sluice.internal:9000/\"\n"));
    REQUIRE(d.port() != 0);
    const std::string port = std::to_string(d.port());
    for (const std::string path : {"/api/v1/jobs", "/", "/livez"}) {
        INFO(path);
        auto r = http_raw(d.port(), raw_request("GET", path, "attacker.example:" + port));
        CHECK(r.status == 421);
        CHECK(error_code(r) == "unknown_host");
    }
    auto post = http_raw(d.port(),
                         raw_request("POST", "/api/v1/jobs/hello/runs", "attacker.example:" + port,
                                     "Content-Type: application/json\r\n", "{}"));
    CHECK(post.status == 421);
    const std::vector<std::string> answered{"127.0.0.1:" + port, "localhost:" + port,
                                            "[::1]:" + port, "sluice.internal:9000",
                                            "SLUICE.INTERNAL"};
    for (const std::string& host : answered) {
        INFO(host);
        CHECK(http_raw(d.port(), raw_request("GET", "/api/v1/jobs", host)).status == 200);
    }
}

TEST_CASE("with tokens, server.allowed_hosts names the hosts answered", "[e2e][http][browser]") {
    auto [viewer, viewer_line] = token_for("dash", "viewer");
    http_daemon d(
        sqlite_config("  allowed_hosts: [sluice.example.com]\n  tokens:\n  " + viewer_line + "\n"));
    REQUIRE(d.port() != 0);
    const std::string auth = "Authorization: Bearer " + viewer + "\r\n";
    CHECK(
        http_raw(d.port(), raw_request("GET", "/api/v1/jobs", "sluice.example.com", auth)).status ==
        200);
    CHECK(http_raw(d.port(), raw_request("GET", "/api/v1/jobs", "127.0.0.1", auth)).status == 200);
    CHECK(http_raw(d.port(), raw_request("GET", "/api/v1/jobs", "attacker.example", auth)).status ==
          421);
}

TEST_CASE("/api/v1/session names the caller and its role for the page", "[e2e][http][page]") {
    SECTION("without tokens everyone is the anonymous admin") {
        http_daemon d(sqlite_config());
        REQUIRE(d.port() != 0);
        auto s = body_of(http_call(d.port(), "GET", "/api/v1/session"));
        CHECK(s["auth"] == false);
        CHECK(s["role"] == "admin");
    }
    SECTION("with tokens the token's name and role, 401 without one") {
        auto [viewer, viewer_line] = token_for("dash", "viewer");
        auto [op, op_line] = token_for("ci", "operator");
        http_daemon d(sqlite_config("  tokens:\n  " + viewer_line + "\n  " + op_line + "\n"));
        REQUIRE(d.port() != 0);
        CHECK(http_call(d.port(), "GET", "/api/v1/session").status == 401);
        auto v = body_of(http_call(d.port(), "GET", "/api/v1/session", "",
                                   {{"Authorization", "Bearer " + viewer}}));
        CHECK(v == nlohmann::json{{"auth", true}, {"name", "dash"}, {"role", "viewer"}});
        auto o = body_of(
            http_call(d.port(), "GET", "/api/v1/session", "", {{"Authorization", "Bearer " + op}}));
        CHECK(o["role"] == "operator");
    }
}

TEST_CASE("job detail lists each param's type, default, required flag, description and values",
          "[e2e][http][page]") {
    http_daemon d(sqlite_config());
    REQUIRE(d.port() != 0);
    auto job = body_of(http_call(d.port(), "GET", "/api/v1/jobs/hello"));
    REQUIRE(job["params"].size() == 1);
    CHECK(job["params"][0] == nlohmann::json{{"name", "who"},
                                             {"type", "string"},
                                             {"default", "world"},
                                             {"required", false},
                                             {"description", ""},
                                             {"values", nlohmann::json::array()}});
}

TEST_CASE("GET /api/v1/variables lists every variable for admins, secret values as null",
          "[e2e][http][page]") {
    auto [op, op_line] = token_for("ci", "operator");
    auto [admin, admin_line] = token_for("root", "admin");
    http_daemon d(sqlite_config("  tokens:\n  " + op_line + "\n  " + admin_line + "\n"));
    REQUIRE(d.port() != 0);
    const header_list as_admin{{"Authorization", "Bearer " + admin}};
    REQUIRE(
        http_call(d.port(), "PUT", "/api/v1/variables/region", R"({"value":"eu-west"})", as_admin)
            .status == 200);
    REQUIRE(http_call(d.port(), "PUT", "/api/v1/variables/api_key",
                      R"({"value":"hunter2","secret":true})", as_admin)
                .status == 200);
    auto list = http_call(d.port(), "GET", "/api/v1/variables", "", as_admin);
    REQUIRE(list.status == 200);
    CHECK_THAT(list.body, !Contains("hunter2"));
    const auto vars = body_of(list)["variables"];
    REQUIRE(vars.size() == 2);
    CHECK(vars[0]["key"] == "api_key");
    CHECK(vars[0]["secret"] == true);
    CHECK(vars[0]["value"].is_null());
    CHECK(vars[1]["key"] == "region");
    CHECK(vars[1]["value"] == "eu-west");
    CHECK(body_of(list)["truncated"] == false);
    CHECK(http_call(d.port(), "GET", "/api/v1/variables", "", {{"Authorization", "Bearer " + op}})
              .status == 403);
}
