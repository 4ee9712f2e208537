// End-to-end: the scheduler lease (docs/cluster.md#the-scheduler) with real `sluice serve`
// processes on the PostgreSQL of `make test`. Two nodes share an every-second schedule: only the
// lease's holder creates its ticks; kill -9 of the holder hands them to the other node, a
// frozen holder (SIGSTOP past its lease) is replaced and creates nothing once it resumes, and
// through it all every tick has exactly one run, none missing (catchup: all).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cluster_node.hpp"
#include "core/time.hpp"
#include "http_client.hpp"
#include "tests/component/store/test_databases.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using namespace sluice::test;

namespace {

// lease_ttl 2s, heartbeat 200ms; one every-second job that catches up every tick it missed.
std::filesystem::path ticking_config(const temp_dir& dir, const std::string& store_url,
                                     const std::string& name) {
    const auto file = dir.path() / (name + ".yaml");
    std::ofstream out(file);
    out << "server: {listen: \"127.0.0.1:0\"}\nstore: {url: \"" << store_url
        << "\"}\ncluster: {node_name: " << name << ", lease_ttl: 2s, heartbeat: 200ms}\n"
        << "jobs:\n  tick:\n    schedule: \"* * * * * *\"\n    catchup: all\n"
        << "    max_catchup_runs: 1000\n    tasks:\n      t: {type: noop}\n";
    return file;
}

// The logical times of the job's scheduled runs, oldest first (at most 500: the test makes
// fewer than 100).
std::vector<std::string> tick_times(std::uint16_t port) {
    auto r = http_call(port, "GET", "/api/v1/runs?job=tick&limit=500");
    INFO(r.body);
    REQUIRE(r.status == 200);
    const json page = json::parse(r.body);
    std::vector<std::string> out;
    for (const auto& run : page.at("runs")) {
        if (run.at("trigger").get<std::string>() == "scheduled") {
            out.push_back(run.at("logical_time").get<std::string>());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Waits until GET /api/v1/nodes on `port` names `name` the scheduler; how long that took.
std::chrono::milliseconds until_scheduler(std::uint16_t port, const std::string& name) {
    const auto from = std::chrono::steady_clock::now();
    const json nodes = wait_nodes(
        port, [&](const json& all) { return scheduler_of(all) == name; }, 15s);
    INFO(nodes.dump());
    REQUIRE(scheduler_of(nodes) == name);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 from);
}

std::size_t count_in(const std::string& log, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("one node creates the ticks; kill -9 and a freeze of it lose none and double none",
          "[e2e][serve][cluster][failover]") {
    postgres_database db;
    temp_dir dir;
    const auto config_1 = ticking_config(dir, db.url(), "etl-1");
    const auto config_2 = ticking_config(dir, db.url(), "etl-2");
    node_daemon one = start_node(dir, config_1, "etl-1");
    node_daemon two = start_node(dir, config_2, "etl-2");
    until_scheduler(two.port, "etl-1");
    std::this_thread::sleep_for(2500ms);
    // Only the scheduler created ticks.
    CHECK(count_in(one.process->output(), "(scheduled)") >= 2);
    CHECK(count_in(two.process->output(), "(scheduled)") == 0);

    // kill -9 of the holder: etl-2 takes the lease over. Both run on this machine, so etl-2 can
    // prove etl-1 gone and need not wait the lease out; across machines it is at most
    // lease_ttl + heartbeat (docs/cluster.md#the-scheduler).
    one.process->signal(SIGKILL);
    one.process->wait_exit(10s);
    const auto failover = until_scheduler(two.port, "etl-2");
    CHECK(failover < 2200ms + 3s);  // lease_ttl + heartbeat, and room for a loaded machine
    std::this_thread::sleep_for(2s);
    CHECK(count_in(two.process->output(), "(scheduled)") >= 2);

    // etl-1 again, then etl-2 (the holder) frozen past its lease: etl-1 takes it once it
    // expired. Resumed, etl-2 creates nothing more.
    one = start_node(dir, config_1, "etl-1");
    two.process->signal(SIGSTOP);
    until_scheduler(one.port, "etl-1");
    std::this_thread::sleep_for(1500ms);
    const std::size_t frozen_ticks = count_in(two.process->output(), "(scheduled)");
    two.process->signal(SIGCONT);
    std::this_thread::sleep_for(2500ms);
    CHECK(scheduler_of(nodes_at(two.port)) == "etl-1");
    CHECK(count_in(two.process->output(), "(scheduled)") == frozen_ticks);

    // Every second from the first tick to the last has exactly one run.
    const auto times = tick_times(one.port);
    one.process->signal(SIGTERM);
    two.process->signal(SIGTERM);
    CHECK(one.process->wait_exit(30s) == 0);
    CHECK(two.process->wait_exit(30s) == 0);
    REQUIRE(times.size() >= 8);
    CHECK(std::set<std::string>(times.begin(), times.end()).size() == times.size());
    for (std::size_t i = 1; i < times.size(); ++i) {
        const auto prev = sluice::core::parse_rfc3339(times[i - 1]);
        const auto next = sluice::core::parse_rfc3339(times[i]);
        REQUIRE((prev && next));
        INFO(times[i - 1] << " -> " << times[i]);
        CHECK(*next - *prev == 1s);
    }
}
