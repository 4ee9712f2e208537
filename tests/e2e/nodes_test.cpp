// End-to-end: cluster membership (docs/cluster.md) with real `sluice serve` processes. On
// PostgreSQL two daemons list each other through GET /api/v1/nodes and `sluice nodes`; a
// drain shows as draining, a clean exit leaves the list, a frozen node (SIGSTOP) reads as lost
// once its heartbeat is older than lease_ttl and as active again when it resumes. On SQLite
// the one daemon is the one node, whatever earlier processes left behind.
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cluster_node.hpp"
#include "daemon_process.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "tests/component/store/test_databases.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using sluice::test::daemon_process;
using sluice::test::http_call;
using sluice::test::node_daemon;
using sluice::test::node_named;
using sluice::test::nodes_at;
using sluice::test::postgres_database;
using sluice::test::run_sluice;
using sluice::test::scheduler_of;
using sluice::test::sqlite_database;
using sluice::test::start_node;
using sluice::test::state_is;
using sluice::test::temp_dir;
using sluice::test::wait_nodes;

namespace {

// A node named `name` with a 2s lease (heartbeat 200ms) and a job whose task sleeps 3s.
std::filesystem::path node_config(const temp_dir& dir, const std::string& store_url,
                                  const std::string& name) {
    const auto file = dir.path() / (name + ".yaml");
    std::ofstream out(file);
    out << "server: {listen: \"127.0.0.1:0\"}\nstore: {url: \"" << store_url
        << "\"}\nshutdown_grace: 20s\ncluster: {node_name: " << name
        << ", lease_ttl: 2s, heartbeat: 200ms}\njobs:\n"
        << "  slow:\n    tasks:\n      work: {type: shell, command: \"sleep 3\"}\n";
    return file;
}

}  // namespace

TEST_CASE("two daemons on one PostgreSQL list each other and see drains, exits and freezes",
          "[e2e][serve][cluster]") {
    postgres_database db;
    temp_dir dir;
    const auto config_1 = node_config(dir, db.url(), "etl-1");
    const auto config_2 = node_config(dir, db.url(), "etl-2");
    node_daemon one = start_node(dir, config_1, "etl-1");
    node_daemon two = start_node(dir, config_2, "etl-2");

    // Each lists both, itself marked, by name; times by the store's clock.
    const json from_one = nodes_at(one.port);
    INFO(from_one.dump());
    REQUIRE(from_one.size() == 2);
    CHECK(from_one[0].at("name") == "etl-1");
    CHECK(from_one[0].at("self") == true);
    CHECK(from_one[1].at("name") == "etl-2");
    CHECK(from_one[1].at("self") == false);
    for (const auto& n : from_one) {
        CHECK(n.at("state") == "active");
        CHECK(n.at("lease_ttl_ms") == 2000);
        CHECK(n.at("heartbeat_age_ms").get<std::int64_t>() < 2000);
        CHECK(n.at("running_attempts") == 0);
        CHECK_FALSE(n.at("version").get<std::string>().empty());
        CHECK(n.at("config_hash").get<std::string>().size() == 64);
        CHECK(n.at("id").get<std::string>().find(':') != std::string::npos);
        CHECK(n.at("started_at").is_string());
        CHECK(n.at("heartbeat_at").is_string());
    }
    // Different files, different hashes.
    CHECK(from_one[0].at("config_hash") != from_one[1].at("config_hash"));
    // etl-1 started first and took the scheduler lease (docs/cluster.md#the-scheduler).
    CHECK(scheduler_of(from_one) == "etl-1");

    // Each one's probes and metrics say what it knows of itself and its cluster.
    for (const auto& [port, name] : {std::pair{one.port, "etl-1"}, std::pair{two.port, "etl-2"}}) {
        const bool leader = std::string(name) == "etl-1";
        auto ready = http_call(port, "GET", "/readyz");
        INFO(ready.body);
        REQUIRE(ready.status == 200);
        const json probe = json::parse(ready.body);
        CHECK(probe.at("checks").at("cluster") == "active");
        CHECK(probe.at("node").at("name") == name);
        CHECK(probe.at("node").at("scheduler") == leader);
        CHECK(probe.at("node").at("heartbeat_age_ms").get<std::int64_t>() < 2000);
        // Counted by the heartbeats: wait for one that saw both nodes.
        const auto until = std::chrono::steady_clock::now() + 10s;
        std::string metrics;
        do {
            metrics = http_call(port, "GET", "/metrics").body;
        } while (metrics.find("sluice_cluster_nodes{state=\"active\"} 2") == std::string::npos &&
                 std::chrono::steady_clock::now() < until &&
                 (std::this_thread::sleep_for(50ms), true));
        INFO(metrics);
        CHECK_THAT(metrics,
                   Catch::Contains("sluice_cluster_nodes{state=\"active\"} 2") &&
                       Catch::Contains("sluice_cluster_nodes{state=\"lost\"} 0") &&
                       Catch::Contains(std::string("sluice_leader ") + (leader ? "1" : "0")) &&
                       Catch::Contains("sluice_lease_renewal_seconds_count"));
    }
    CHECK(node_named(nodes_at(two.port), "etl-2").at("self") == true);

    // `sluice nodes` against the real binary: JSON as the API has it, and a table.
    const std::string server_two = "http://127.0.0.1:" + std::to_string(two.port);
    auto listed = run_sluice({"nodes", "--server", server_two, "--output", "json"});
    INFO(listed.err);
    REQUIRE(listed.exit_code == 0);
    const json cli_nodes = json::parse(listed.out).at("nodes");
    REQUIRE(cli_nodes.size() == 2);
    CHECK(node_named(cli_nodes, "etl-2").at("self") == true);
    auto table = run_sluice({"nodes", "--server", server_two});
    INFO(table.err);
    REQUIRE(table.exit_code == 0);
    CHECK_THAT(table.out, Catch::Contains("NAME") && Catch::Contains("STATE") &&
                              Catch::Contains("HEARTBEAT") && Catch::Contains("etl-2 *") &&
                              Catch::Contains("etl-1 ") && Catch::Contains("active"));

    // A run on etl-1 counts as its running attempt.
    auto triggered = http_call(one.port, "POST", "/api/v1/jobs/slow/runs", "{}",
                               {{"Content-Type", "application/json"}});
    INFO(triggered.body);
    REQUIRE(triggered.status == 201);
    json nodes = wait_nodes(
        two.port,
        [](const json& all) {
            const json n = node_named(all, "etl-1");
            return n.is_object() && n.at("running_attempts") == 1;
        },
        10s);
    CHECK(node_named(nodes, "etl-1").at("running_attempts") == 1);
    CHECK(node_named(nodes, "etl-2").at("running_attempts") == 0);

    // SIGTERM: etl-1 drains (its task runs on for up to 3s) and says so, then leaves the list.
    one.process->signal(SIGTERM);
    nodes = wait_nodes(two.port, state_is("etl-1", "draining"), 5s);
    CHECK(node_named(nodes, "etl-1").at("state") == "draining");
    CHECK(one.process->wait_exit(30s) == 0);
    nodes = nodes_at(two.port);
    INFO(nodes.dump());
    CHECK(node_named(nodes, "etl-1").is_null());
    REQUIRE(nodes.size() == 1);
    // Given up in the drain: etl-2 took it at a heartbeat, not after lease_ttl.
    nodes = wait_nodes(
        two.port, [](const json& all) { return scheduler_of(all) == "etl-2"; }, 5s);
    CHECK(scheduler_of(nodes) == "etl-2");

    // etl-1 again (a new process), then etl-2 frozen: lost once its heartbeat is 2s old, by
    // the store's clock, and active again when it resumes.
    one = start_node(dir, config_1, "etl-1");
    two.process->signal(SIGSTOP);
    const auto frozen = std::chrono::steady_clock::now();
    nodes = wait_nodes(one.port, state_is("etl-2", "lost"), 10s);
    const auto took = std::chrono::steady_clock::now() - frozen;
    CHECK(node_named(nodes, "etl-2").at("state") == "lost");
    CHECK(node_named(nodes, "etl-2").at("heartbeat_age_ms").get<std::int64_t>() > 2000);
    CHECK(took >= 1800ms);
    CHECK(node_named(nodes, "etl-1").at("state") == "active");
    two.process->signal(SIGCONT);
    nodes = wait_nodes(one.port, state_is("etl-2", "active"), 10s);
    CHECK(node_named(nodes, "etl-2").at("state") == "active");

    // kill -9: nothing says stopped, so etl-2 reads as lost.
    two.process->signal(SIGKILL);
    two.process->wait_exit(10s);
    nodes = wait_nodes(one.port, state_is("etl-2", "lost"), 10s);
    CHECK(node_named(nodes, "etl-2").at("state") == "lost");

    one.process->signal(SIGTERM);
    CHECK(one.process->wait_exit(30s) == 0);
    INFO(one.process->output());
    CHECK_THAT(one.process->output(), Catch::Contains("node etl-1 (") &&
                                          Catch::Contains("joined the cluster") &&
                                          Catch::Contains("node etl-1 left the cluster"));
}

TEST_CASE("on SQLite the one daemon is the only node, whatever earlier processes left",
          "[e2e][serve][cluster]") {
    sqlite_database db;
    temp_dir dir;
    const auto config = dir.path() / "sluice.yaml";
    {
        std::ofstream out(config);
        out << "server: {listen: \"127.0.0.1:0\"}\nstore: {url: \"" << db.url()
            << "\"}\njobs:\n  quick:\n    tasks:\n      t: {type: noop}\n";
    }
    std::string first_id;
    {
        node_daemon first = start_node(dir, config, "first");
        const json nodes = nodes_at(first.port);
        REQUIRE(nodes.size() == 1);
        CHECK(nodes[0].at("self") == true);
        // The default name: host name and pid.
        CHECK_THAT(nodes[0].at("name").get<std::string>(),
                   Catch::EndsWith(":" + std::to_string(first.process->pid())));
        first_id = nodes[0].at("id").get<std::string>();
        first.process->signal(SIGKILL);  // leaves its row active
        first.process->wait_exit(10s);
    }
    node_daemon second = start_node(dir, config, "second");
    const json nodes = nodes_at(second.port);
    INFO(nodes.dump());
    REQUIRE(nodes.size() == 1);
    CHECK(nodes[0].at("self") == true);
    CHECK(nodes[0].at("state") == "active");
    CHECK(nodes[0].at("id") != first_id);
    CHECK(nodes[0].at("lease_ttl_ms") == 10000);
    // The first held the scheduler lease when it was killed; the engine lock proves it gone,
    // so the second holds the lease from its start instead of waiting it out.
    CHECK(nodes[0].at("scheduler") == true);
    const json probe = json::parse(http_call(second.port, "GET", "/readyz").body);
    CHECK(probe.at("node").at("scheduler") == true);
    CHECK(probe.at("checks").at("cluster") == "active");
    CHECK(http_call(second.port, "GET", "/api/v1/nodes?state=lost").status == 400);
    second.process->signal(SIGTERM);
    CHECK(second.process->wait_exit(30s) == 0);
}
