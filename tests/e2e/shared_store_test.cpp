// End-to-end: a second process on the store of a running daemon (`sluice run`, another `serve`,
// `runs list`) never takes over the daemon's running task and never runs it a second time. On
// SQLite the engine's processes exclude each other with a lock that names the holder; on
// PostgreSQL they share the store, each under its own lease owner identity.
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon_process.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "tests/component/store/test_databases.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using sluice::test::complete_lines;
using sluice::test::daemon_process;
using sluice::test::http_call;
using sluice::test::postgres_database;
using sluice::test::run_sluice;
using sluice::test::sqlite_database;
using sluice::test::temp_dir;

namespace {

// `slow` marks its start, sleeps `seconds`, marks its end; `other` is a quick job.
std::filesystem::path write_config(const temp_dir& dir, const std::string& store_url,
                                   const std::filesystem::path& marks, int seconds) {
    const auto file = dir.path() / "sluice.yaml";
    std::ofstream out(file);
    out << "server: {listen: \"127.0.0.1:0\"}\nstore: {url: \"" << store_url
        << "\"}\nshutdown_grace: 1s\njobs:\n"
        << "  slow:\n    tasks:\n      work:\n        type: shell\n        command: |\n"
        << "          echo \"start $SLUICE_TRY_NUMBER $$\" >> " << marks.string() << "\n"
        << "          sleep " << seconds << "\n"
        << "          echo \"done $SLUICE_TRY_NUMBER\" >> " << marks.string() << "\n"
        << "  other:\n    tasks:\n      quick: {type: shell, command: \"echo other\"}\n";
    return file;
}

// The daemon's port once it answers /readyz with 200 (the scheduler has started).
std::uint16_t wait_port(const std::filesystem::path& port_file, daemon_process& d) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
        std::ifstream in(port_file);
        int port = 0;
        if (in >> port && port > 0 &&
            http_call(static_cast<std::uint16_t>(port), "GET", "/readyz").status == 200) {
            return static_cast<std::uint16_t>(port);
        }
        std::this_thread::sleep_for(20ms);
    }
    INFO(d.output());
    FAIL("the daemon did not listen");
    return 0;
}

bool wait_lines(const std::filesystem::path& file, std::size_t n, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (complete_lines(file).size() >= n) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

json run_show(const std::filesystem::path& config, std::int64_t id) {
    auto r =
        run_sluice({"runs", "show", "-c", config.string(), std::to_string(id), "--output", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
}

// The finished run `id` as `runs show` prints it (the store read directly, beside the daemon).
json wait_finished(const std::filesystem::path& config, std::int64_t id,
                   std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        json shown = run_show(config, id);
        if (shown.at("state") != "queued" && shown.at("state") != "running") {
            return shown;
        }
        std::this_thread::sleep_for(100ms);
    }
    return nullptr;
}

// The `slow` run finished once: one start (try 1), one end, success, try 1 stored.
void check_ran_once(const std::filesystem::path& config, const std::filesystem::path& marks,
                    std::int64_t run) {
    const json shown = wait_finished(config, run, 60s);
    REQUIRE(shown.is_object());
    CHECK(shown.at("state") == "success");
    REQUIRE(shown.at("tasks").size() == 1);
    CHECK(shown.at("tasks")[0].at("try_number") == 1);
    const auto lines = complete_lines(marks);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].rfind("start 1 ", 0) == 0);
    CHECK(lines[1] == "done 1");
}

}  // namespace

TEMPLATE_TEST_CASE("another process on the daemon's store never takes over its running task",
                   "[e2e][serve][shared]", sqlite_database, postgres_database) {
    TestType db;
    temp_dir dir;
    const auto marks = dir.path() / "marks";
    const auto config = write_config(dir, db.url(), marks, 4);
    const auto port_file = dir.path() / "port";
    daemon_process daemon({"serve", "-c", config.string(), "--port-file", port_file.string()},
                          dir.path() / "serve.log");
    const std::uint16_t port = wait_port(port_file, daemon);
    auto triggered = http_call(port, "POST", "/api/v1/jobs/slow/runs", "{}",
                               {{"Content-Type", "application/json"}});
    INFO(triggered.body);
    REQUIRE(triggered.status == 201);
    const std::int64_t run = json::parse(triggered.body).at("run_id");
    REQUIRE(wait_lines(marks, 1, 30s));

    // Read-only commands work beside the daemon on both stores.
    auto listed = run_sluice({"runs", "list", "-c", config.string()});
    INFO(listed.err);
    CHECK(listed.exit_code == 0);

    const std::string holder = "sluice serve (pid " + std::to_string(daemon.pid()) + " on ";
    auto other = run_sluice({"run", "-c", config.string(), "other"});
    INFO(other.out << other.err);
    if (std::string(TestType::engine) == "sqlite") {
        // One process runs jobs on a SQLite store: the second is refused and names the first.
        CHECK(other.exit_code == 1);
        CHECK_THAT(other.err, Catch::Contains("is in use by " + holder));
        daemon_process second({"serve", "-c", config.string()}, dir.path() / "second.log");
        const auto code = second.wait_exit(20s);
        INFO(second.output());
        CHECK(code == 1);
        CHECK_THAT(second.output(), Catch::Contains("is in use by " + holder));
    } else {
        // PostgreSQL is shared: the other job runs, and leaves the daemon's attempt alone.
        CHECK(other.exit_code == 0);
        CHECK_THAT(other.out, Catch::Contains("success"));
        CHECK_THAT(other.err, !Catch::Contains("interrupted"));
    }
    check_ran_once(config, marks, run);
    daemon.signal(SIGTERM);
    CHECK(daemon.wait_exit(30s) == 0);
    INFO(daemon.output());
    CHECK_THAT(daemon.output(), !Catch::Contains("taken over"));
    CHECK_THAT(daemon.output(), !Catch::Contains("interrupted"));
}

TEMPLATE_TEST_CASE("a daemon started beside a running `sluice run` leaves that run to it",
                   "[e2e][serve][shared]", sqlite_database, postgres_database) {
    TestType db;
    temp_dir dir;
    const auto marks = dir.path() / "marks";
    const auto config = write_config(dir, db.url(), marks, 4);
    daemon_process foreground({"run", "-c", config.string(), "slow"}, dir.path() / "run.log");
    REQUIRE(wait_lines(marks, 1, 30s));

    const auto port_file = dir.path() / "port";
    daemon_process daemon({"serve", "-c", config.string(), "--port-file", port_file.string()},
                          dir.path() / "serve.log");
    if (std::string(TestType::engine) == "sqlite") {
        const auto code = daemon.wait_exit(20s);
        INFO(daemon.output());
        CHECK(code == 1);
        CHECK_THAT(daemon.output(), Catch::Contains("is in use by sluice run slow (pid " +
                                                    std::to_string(foreground.pid()) + " on "));
    } else {
        // The daemon starts, sees the attempt leased by a live process and leaves it.
        wait_port(port_file, daemon);
    }
    CHECK(foreground.wait_exit(60s) == 0);
    INFO(foreground.output());
    check_ran_once(config, marks, 1);
    if (std::string(TestType::engine) == "postgresql") {
        daemon.signal(SIGTERM);
        CHECK(daemon.wait_exit(30s) == 0);
        INFO(daemon.output());
        CHECK_THAT(daemon.output(), Catch::Contains("running in another live process"));
        CHECK_THAT(daemon.output(), !Catch::Contains("interrupted"));
    }
}
