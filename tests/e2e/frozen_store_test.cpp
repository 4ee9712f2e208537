// End-to-end: the PostgreSQL store freezes (SIGSTOP of the server and every backend), so TCP
// keeps acknowledging and nothing answers (docs/operations.md#store-outages). The daemon turns
// /readyz 503, abandons each store operation at store.timeout instead of waiting for ever,
// stops on SIGTERM, and once the server answers again a new daemon carries on with nothing run
// twice.
#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <map>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_api_support.hpp"
#include "http_daemon.hpp"
#include "private_postgres.hpp"
#include "scratch_dir.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

struct thaw_on_exit {
    test::private_postgres& server;
    ~thaw_on_exit() { server.thaw(); }
};

// Each line the task wrote: the run id of the attempt that wrote it.
std::map<std::string, int> runs_written(const std::filesystem::path& file) {
    std::map<std::string, int> seen;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        ++seen[line];
    }
    return seen;
}

}  // namespace

TEST_CASE("a frozen PostgreSQL store: 503, every operation bounded, a clean stop, no repeat",
          "[e2e][store][hung]") {
    test::private_postgres pg;
    test::scratch_dir marks("sluice-frozen");
    const auto file = marks.path / "ran";
    const std::string config =
        "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + pg.url() +
        "\"\n  timeout: 2s\nshutdown_grace: 1s\njobs:\n  tick:\n    tasks:\n      note:\n"
        "        type: shell\n        command: 'echo \"$SLUICE_RUN_ID\" >> " +
        file.string() + "'\n";
    std::int64_t before = 0;
    {
        test::http_daemon d(config);
        INFO(d.log());
        REQUIRE(d.port() != 0);
        before = test::trigger(d.port(), "tick");
        CHECK(test::wait_finished(d.port(), before)["state"] == "success");

        const thaw_on_exit thaw_later{pg};
        pg.freeze();
        // Readiness asks the store with a 1 s bound of its own.
        const auto ready = test::http_call(d.port(), "GET", "/readyz");
        CHECK(ready.status == 503);
        CHECK_THAT(ready.body, Contains("the store did not answer within 1s"));
        // The check is out until store.timeout (2 s): the next probe is answered from it at
        // once rather than holding another of the API's store threads.
        const auto again_ready = test::http_call(d.port(), "GET", "/readyz");
        CHECK(again_ready.status == 503);
        CHECK_THAT(again_ready.body, Contains("is still waiting"));
        CHECK(test::http_call(d.port(), "GET", "/livez").status == 200);

        // A trigger needs the store: it fails at store.timeout (2 s) instead of hanging.
        const auto asked = std::chrono::steady_clock::now();
        const auto refused = test::http_call(d.port(), "POST", "/api/v1/jobs/tick/runs");
        const auto took = std::chrono::steady_clock::now() - asked;
        INFO("trigger answered "
             << refused.status << " after "
             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
             << " ms: " << refused.body);
        CHECK(refused.status >= 500);
        CHECK(took < 12s);
        CHECK_THAT(refused.body,
                   Contains("store_unavailable") && Contains("no answer from the store within 2s"));

        // SIGTERM while frozen: the drain ends; no thread waits for the server.
        const pid_t pid = d.pid();
        auto stopping = std::async(std::launch::async, [&d] { return d.stop(); });
        const bool stopped = stopping.wait_for(40s) == std::future_status::ready;
        if (!stopped) {
            ::kill(pid, SIGKILL);
        }
        CHECK(stopped);
        CHECK(stopping.get() == 0);
        pg.thaw();
    }

    // The server answers again: a new daemon on the same store reconciles and runs.
    test::http_daemon again(config);
    INFO(again.log());
    REQUIRE(again.port() != 0);
    CHECK(test::http_call(again.port(), "GET", "/readyz").status == 200);
    const auto after = test::trigger(again.port(), "tick");
    CHECK(test::wait_finished(again.port(), after)["state"] == "success");
    const auto written = runs_written(file);
    CHECK(written.at(std::to_string(before)) == 1);
    CHECK(written.at(std::to_string(after)) == 1);
    for (const auto& [run, times] : written) {
        INFO("run " << run);
        CHECK(times == 1);
    }
}
