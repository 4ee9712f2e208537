// End-to-end: a sql task whose server hangs (SIGSTOP) mid-statement. The statement and the
// cancel request (libpq's, or MySQL's KILL QUERY from a second connection) both wait for the
// server without a timeout of their own, so only the bound on the cancel (connectors/
// bounded_cancel) ends the attempt at its task timeout (the sink outage's hang case).
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_api_support.hpp"
#include "http_daemon.hpp"
#include "private_mariadb.hpp"
#include "private_postgres.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

template <class Server>
struct thaw_on_exit {
    Server& server;
    ~thaw_on_exit() { server.thaw(); }
};

// Runs `sleep_sql` (60 s) as a sql task with a 3 s timeout on `server` (a connection of
// `type`), freezes the server once `sleeping_sql` counts the statement running, and expects the
// attempt to end `timed out` within the timeout plus the cancel bound (connect_timeout, 2 s).
template <class Server>
void ends_at_timeout_when_frozen(Server& server, const std::string& type,
                                 const std::string& sleep_sql, const std::string& sleeping_sql) {
    test::http_daemon d(
        "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: "
        "\"sqlite://var/sluice.db\"\nshutdown_grace: 1s\nconnections:\n  db: "
        "{type: " +
        type + ", url: \"" + server.url() +
        "\", connect_timeout: 2s}\njobs:\n  load:\n    tasks:\n      wait:\n"
        "        type: sql\n        connection: db\n        timeout: 3s\n"
        "        sql: " +
        sleep_sql + "\n");
    INFO(d.log());
    REQUIRE(d.port() != 0);
    const thaw_on_exit<Server> thaw_first{server};
    const auto started = std::chrono::steady_clock::now();
    const auto run = test::trigger(d.port(), "load");
    const auto running = [&] { return std::stol(server.query(sleeping_sql)) == 1; };
    const auto sleeping_by = started + 30s;
    while (!running() && std::chrono::steady_clock::now() < sleeping_by) {
        std::this_thread::sleep_for(20ms);
    }
    REQUIRE(running());
    server.freeze();

    // With room for a loaded machine; without the bound the attempt never ends.
    const json done = test::wait_finished(d.port(), run);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO("run: " << done.dump());
    INFO("daemon: " << d.log());
    CHECK(done["state"] == "failed");
    const json& task = done["tasks"][0];
    CHECK(task["state"] == "failed");
    REQUIRE(task["error"].is_object());
    CHECK_THAT(task["error"]["message"].get<std::string>(),
               Catch::StartsWith("timed out after 3s"));
    CHECK(took < 20s);
    server.thaw();
    CHECK(d.stop() == 0);
}

}  // namespace

TEST_CASE("a sql task on a PostgreSQL server that hangs (SIGSTOP) ends at its timeout",
          "[e2e][etl][outage]") {
    test::private_postgres server;
    ends_at_timeout_when_frozen(
        server, "postgres", "SELECT pg_sleep(60)",
        "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'");
}

TEST_CASE("a sql task on a MariaDB server that hangs (SIGSTOP) ends at its timeout",
          "[e2e][etl][outage]") {
    test::private_mariadb server;
    ends_at_timeout_when_frozen(
        server, "mysql", "SELECT SLEEP(60)",
        "SELECT count(*) FROM information_schema.processlist WHERE info = 'SELECT SLEEP(60)'");
}
