#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "scheduler/node_registry.hpp"
#include "tests/component/store/test_databases.hpp"
#include "web/api.hpp"
#include "web/auth.hpp"

using namespace sluice;
using nlohmann::json;

namespace {

config::sluice_config config_with_tokens() {
    config::sluice_config c;
    c.server.tokens = {{"dash", web::sha256_hex("viewer-token"), config::token_role::viewer},
                       {"ci", web::sha256_hex("operator-token"), config::token_role::operator_},
                       {"root", web::sha256_hex("admin-token"), config::token_role::admin}};
    return c;
}

// An API over a real store and no engine; answers are collected by running the loop.
struct api_under_test {
    test::sqlite_database db;
    std::unique_ptr<scheduler::run_store> store = test::open_migrated(db.url());
    config::sluice_config config;
    boost::asio::io_context loop;
    web::api api;

    explicit api_under_test(config::sluice_config c)
        : config(std::move(c)),
          api(web::api_dependencies{config, nullptr, store.get(), loop, {}}) {}

    web::http_response call(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            std::map<std::string, std::string> headers = {}) {
        web::http_request r;
        r.method = method;
        r.path = path;
        r.target = path;
        r.body = body;
        r.headers = std::move(headers);
        if (!body.empty() && !r.headers.contains("content-type")) {
            r.headers["content-type"] = "application/json";
        }
        std::optional<web::http_response> answer;
        api.handle(r, [&](web::http_response res) { answer = std::move(res); });
        for (int i = 0; i < 1000 && !answer; ++i) {
            loop.restart();
            loop.run_for(std::chrono::milliseconds(5));
        }
        REQUIRE(answer);
        return *answer;
    }
};

std::string code_of(const web::http_response& r) {
    return json::parse(r.body)["error"]["code"];
}

std::map<std::string, std::string> bearer(const std::string& token) {
    return {{"authorization", "Bearer " + token}};
}

}  // namespace

TEST_CASE("api routes answer 503 starting until the scheduler started while probes answer",
          "[web][api]") {
    api_under_test t(config::sluice_config{});
    auto early = t.call("GET", "/api/v1/jobs");
    CHECK(early.status == 503);
    CHECK(code_of(early) == "starting");
    CHECK(t.call("GET", "/livez").status == 200);
    CHECK(t.call("GET", "/healthz").status == 200);
}

TEST_CASE("unknown paths are 404 and known paths with another method 405 with Allow",
          "[web][api]") {
    api_under_test t(config::sluice_config{});
    t.api.set_started();
    CHECK(t.call("GET", "/nope").status == 404);
    auto r = t.call("POST", "/api/v1/variables/x");
    CHECK(r.status == 405);
    REQUIRE(r.headers.size() == 1);
    CHECK(r.headers[0] == std::pair<std::string, std::string>("Allow", "GET, PUT, DELETE"));
}

TEST_CASE("tokens and roles gate the api and refused calls are audited", "[web][api][auth]") {
    api_under_test t(config_with_tokens());
    t.api.set_started();
    auto anon = t.call("PUT", "/api/v1/variables/k", R"({"value":"v"})");
    CHECK(anon.status == 401);
    auto viewer = t.call("PUT", "/api/v1/variables/k", R"({"value":"v"})", bearer("viewer-token"));
    CHECK(viewer.status == 403);
    CHECK(code_of(viewer) == "forbidden");
    auto op_trigger_as_viewer = t.call("POST", "/api/v1/jobs/j/runs", "", bearer("viewer-token"));
    CHECK(op_trigger_as_viewer.status == 403);
    auto op = t.call("PUT", "/api/v1/variables/k", R"({"value":"v"})", bearer("operator-token"));
    CHECK(op.status == 403);
    auto admin = t.call("PUT", "/api/v1/variables/k", R"({"value":"v"})", bearer("admin-token"));
    CHECK(admin.status == 200);
    auto got = t.call("GET", "/api/v1/variables/k", "", bearer("admin-token"));
    CHECK(json::parse(got.body)["value"] == "v");
    auto wrong = t.call("GET", "/api/v1/variables/k", "", bearer("admin-token-x"));
    CHECK(wrong.status == 401);

    // The audit records are written off-loop, in order.
    std::vector<scheduler::event_record> audit;
    for (int i = 0; i < 200 && audit.size() < 5; ++i) {
        audit = t.store->read_events(0, "audit", 100).value();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(audit.size() == 5);
    std::vector<std::string> actors;
    for (const auto& e : audit) {
        actors.push_back(e.actor + " " +
                         std::to_string(json::parse(e.payload_json)["status"].get<int>()));
    }
    CHECK(actors == std::vector<std::string>{"api:anonymous 401", "api:dash 403", "api:dash 403",
                                             "api:ci 403", "api:root 200"});
}

TEST_CASE("bodies must be JSON objects sent as application/json", "[web][api]") {
    api_under_test t(config::sluice_config{});
    t.api.set_started();
    auto text = t.call("PUT", "/api/v1/variables/k", "v", {{"content-type", "text/plain"}});
    CHECK(text.status == 415);
    auto broken = t.call("PUT", "/api/v1/variables/k", "{\"value\":");
    CHECK(broken.status == 400);
    CHECK(code_of(broken) == "malformed_json");
    CHECK(t.call("PUT", "/api/v1/variables/k", "[1]").status == 400);
    CHECK(t.call("PUT", "/api/v1/variables/k", R"({"value":"v","extra":1})").status == 400);
}

TEST_CASE("audit records of the last calls before shutdown are stored", "[web][api]") {
    test::sqlite_database db;
    auto store = test::open_migrated(db.url());
    config::sluice_config config;
    boost::asio::io_context loop;
    auto api =
        std::make_unique<web::api>(web::api_dependencies{config, nullptr, store.get(), loop, {}});
    api->set_started();
    int answered = 0;
    for (int i = 0; i < 3; ++i) {
        web::http_request r;
        r.method = "PUT";
        r.path = r.target = "/api/v1/variables/k";
        r.body = "[1]";  // refused at once (400), without the store: still audited
        r.headers["content-type"] = "application/json";
        api->handle(r, [&](web::http_response res) { answered += res.status == 400 ? 1 : 0; });
    }
    REQUIRE(answered == 3);  // answered on the spot; their audit records are still queued
    api.reset();             // shutdown right after the calls answered, inside the minute
    // The first refusal, then one summary of the two repeats (refusals are aggregated per
    // client and path per minute, docs/api.md): none is lost at shutdown.
    const auto audited = store->read_events(0, "audit", 100).value();
    REQUIRE(audited.size() == 2);
    CHECK(audited[0].payload_json.find("\"repeats\"") == std::string::npos);
    CHECK(audited[1].payload_json.find("\"repeats\":2") != std::string::npos);
}

TEST_CASE("secret variables are write-only through the api", "[web][api]") {
    api_under_test t(config::sluice_config{});
    t.api.set_started();
    auto put = t.call("PUT", "/api/v1/variables/token", R"({"value":"hunter2","secret":true})");
    CHECK(put.status == 200);
    CHECK(put.body.find("hunter2") == std::string::npos);
    auto got = t.call("GET", "/api/v1/variables/token");
    CHECK(got.body.find("hunter2") == std::string::npos);
    CHECK(json::parse(got.body)["secret"] == true);
    CHECK(t.store->get_variable("token").value()->value == "hunter2");  // stored, just not shown
}

TEST_CASE("nodes are listed to viewers with the answering node marked self", "[web][api][nodes]") {
    test::sqlite_database db;
    auto store = test::open_migrated(db.url());
    auto* nodes = dynamic_cast<scheduler::node_registry*>(store.get());
    REQUIRE(nodes != nullptr);
    for (const char* id : {"h:1:a", "h:2:b"}) {
        scheduler::node_registration n;
        n.id = id;
        n.name = std::string("node-") + id[2];
        n.version = "0.1.0";
        n.config_hash = "c0ffee";
        REQUIRE(nodes->register_node(n).has_value());
    }
    REQUIRE(nodes->set_node_state("h:2:b", scheduler::node_state::draining).value());
    const config::sluice_config config = config_with_tokens();
    boost::asio::io_context loop;
    web::api api(web::api_dependencies{config, nullptr, store.get(), loop, {}, "h:2:b"});
    api.set_started();
    const auto call = [&](const std::string& target, const std::string& token) {
        web::http_request r;
        r.method = "GET";
        r.target = target;
        r.path = target.substr(0, target.find('?'));
        if (target.find('?') != std::string::npos) {
            r.query["state"] = "lost";
        }
        if (!token.empty()) {
            r.headers = bearer(token);
        }
        std::optional<web::http_response> answer;
        api.handle(r, [&](web::http_response res) { answer = std::move(res); });
        for (int i = 0; i < 1000 && !answer; ++i) {
            loop.restart();
            loop.run_for(std::chrono::milliseconds(5));
        }
        REQUIRE(answer);
        return *answer;
    };
    CHECK(call("/api/v1/nodes", "").status == 401);
    auto listed = call("/api/v1/nodes", "viewer-token");
    REQUIRE(listed.status == 200);
    const json body = json::parse(listed.body);
    CHECK(body["truncated"] == false);
    REQUIRE(body["nodes"].size() == 2);
    CHECK(body["nodes"][0]["name"] == "node-1");
    CHECK(body["nodes"][0]["state"] == "active");
    CHECK(body["nodes"][0]["self"] == false);
    CHECK(body["nodes"][1]["id"] == "h:2:b");
    CHECK(body["nodes"][1]["state"] == "draining");
    CHECK(body["nodes"][1]["self"] == true);
    CHECK(body["nodes"][1]["lease_ttl_ms"] == 10000);
    CHECK(body["nodes"][1]["running_attempts"] == 0);
    CHECK(body["nodes"][1]["heartbeat_age_ms"].get<std::int64_t>() >= 0);
    auto bad = call("/api/v1/nodes?state=lost", "viewer-token");
    CHECK(bad.status == 400);
    CHECK(code_of(bad) == "bad_request");
}
