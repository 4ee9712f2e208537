#pragma once

// Shared by the HTTP end-to-end tests: the jobs they run, a daemon config on SQLite, and small
// reply helpers.

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "http_daemon.hpp"

namespace sluice::test {

using nlohmann::json;
using namespace std::chrono_literals;

inline const std::string jobs_yaml = R"(
jobs:
  hello:
    schedule: "30 2 * * *"
    params:
      who: {type: string, default: world}
    tasks:
      greet:
        type: shell
        command: 'echo "hello $SLUICE_PARAM_WHO"'
      done:
        type: noop
        depends_on: [greet]
  chain:
    tasks:
      first:
        type: noop
      breaks:
        type: shell
        depends_on: [first]
        command: 'test -f "$SLUICE_VAR_FLAG_DIR/ok"'
      after:
        type: noop
        depends_on: [breaks]
  slow:
    tasks:
      talk:
        type: shell
        # A quiet pause after the first line: it must reach a follower before the next one.
        command: 'echo "line 1"; sleep 3; echo "line 2"; sleep 0.3; echo "line 3"; echo "line 4"'
  progress:
    tasks:
      count:
        type: shell
        argv: [sh, -c, "echo '::sluice metric rows=42'"]
  forbid:
    concurrency: forbid
    tasks:
      wait:
        type: shell
        command: 'sleep 30'
)";

inline std::string sqlite_config(const std::string& server_extra = "") {
    return "server:\n  listen: \"127.0.0.1:0\"\n" + server_extra +
           "store:\n  url: \"sqlite://var/e2e.db\"\nshutdown_grace: 1s\n" + jobs_yaml;
}

inline nlohmann::json body_of(const http_reply& r) {
    return json::parse(r.body, nullptr, false);
}

inline std::string error_code(const http_reply& r) {
    const json j = body_of(r);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
}

// Polls GET /api/v1/runs/{id} until the run is finished (bounded).
inline nlohmann::json wait_finished(std::uint16_t port, std::int64_t run,
                                    const header_list& auth = {}) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    json j;
    while (std::chrono::steady_clock::now() < deadline) {
        auto r = http_call(port, "GET", "/api/v1/runs/" + std::to_string(run), "", auth);
        j = body_of(r);
        const std::string state = j.is_object() ? j.value("state", "") : "";
        if (state != "queued" && state != "running" && !state.empty()) {
            return j;
        }
        std::this_thread::sleep_for(50ms);
    }
    FAIL("run " << run << " did not finish: " << j.dump());
    return j;
}

inline std::int64_t trigger(std::uint16_t port, const std::string& job,
                            const std::string& body = "", const header_list& headers = {}) {
    auto r = http_call(port, "POST", "/api/v1/jobs/" + job + "/runs", body, headers);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return body_of(r)["run_id"].get<std::int64_t>();
}

}  // namespace sluice::test
