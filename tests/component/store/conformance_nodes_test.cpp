// The run_store conformance suite, cluster nodes (scheduler/node_registry.hpp, docs/cluster.md):
// node rows written and aged by the store's clock, the states a row reads as, and the running
// attempts counted per lease owner, on both engines.

// GCC 12 reports the epochs of transition variants moved by an inlined vector reallocation as
// maybe uninitialized (they have initializers: a known -O2 false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <thread>

#include "scheduler/node_registry.hpp"
#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::node_state;
using scheduler::task_state;

scheduler::node_registry& nodes_of(scheduler::run_store& store) {
    auto* nodes = dynamic_cast<scheduler::node_registry*>(&store);
    REQUIRE(nodes != nullptr);
    return *nodes;
}

scheduler::node_registration node_row(std::string id, std::string name,
                                      std::chrono::microseconds ttl = 10s) {
    scheduler::node_registration n;
    n.id = std::move(id);
    n.name = std::move(name);
    n.version = "0.1.0";
    n.config_hash = "c0ffee";
    n.info_json = R"({"host":"h"})";
    n.lease_ttl = ttl;
    return n;
}

const scheduler::node_record& listed(const std::vector<scheduler::node_record>& all,
                                     std::string_view id) {
    for (const auto& n : all) {
        if (n.id == id) {
            return n;
        }
    }
    FAIL("node " << id << " is not listed");
    return all.front();
}

bool is_listed(const std::vector<scheduler::node_record>& all, std::string_view id) {
    return std::any_of(all.begin(), all.end(),
                       [&](const scheduler::node_record& n) { return n.id == id; });
}

// A task started under a lease of `owner` (pending -> queued -> leased -> running, try 1).
std::vector<scheduler::transition> start_under(core::task_instance_id id,
                                               const std::string& owner) {
    auto run = task_move(id, task_state::queued, 1, task_state::running, at(2));
    run.try_number = 1;
    return {task_move(id, task_state::pending, 0, task_state::queued, at(1)),
            scheduler::lease_acquire{id, 0, owner, at(100), at(1)}, run};
}

STORE_TEST("a node row is written and aged by the store's clock", "[store][nodes]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto& nodes = nodes_of(*store);
    ok(nodes.register_node(node_row("h1:10:aa", "etl-1")));
    auto all = ok(nodes.list_nodes());
    REQUIRE(all.size() == 1);
    const auto first = all[0];
    CHECK(first.id == "h1:10:aa");
    CHECK(first.name == "etl-1");
    CHECK(first.version == "0.1.0");
    CHECK(first.config_hash == "c0ffee");
    CHECK(first.state == node_state::active);
    CHECK(first.lease_ttl == 10s);
    CHECK(first.running_attempts == 0);
    CHECK(first.started_at == first.heartbeat_at);
    CHECK(first.heartbeat_age >= 0us);
    CHECK(first.heartbeat_age < 5s);
    // The test servers run on this machine: the store's clock is ours, give or take.
    const auto now = std::chrono::system_clock::now();
    CHECK(first.heartbeat_at > now - 5s);
    CHECK(first.heartbeat_at < now + 5s);

    std::this_thread::sleep_for(30ms);
    CHECK(ok(nodes.heartbeat_node("h1:10:aa")));
    CHECK_FALSE(ok(nodes.heartbeat_node("h9:99:zz")));
    const auto beat = ok(nodes.list_nodes()).at(0);
    CHECK(beat.heartbeat_at >= first.heartbeat_at + 20ms);
    CHECK(beat.started_at == first.started_at);

    // Registering again (a reload with a new file) keeps started_at.
    std::this_thread::sleep_for(30ms);
    auto again = node_row("h1:10:aa", "etl-1");
    again.config_hash = "beef";
    ok(nodes.register_node(again));
    const auto re = ok(nodes.list_nodes()).at(0);
    CHECK(re.config_hash == "beef");
    CHECK(re.started_at == first.started_at);
    CHECK(re.heartbeat_at > beat.heartbeat_at);
}

STORE_TEST("a node reads as draining, lost past its lease_ttl, and stopped nodes are not listed",
           "[store][nodes]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto& nodes = nodes_of(*store);
    ok(nodes.register_node(node_row("a:1:x", "node-a")));
    ok(nodes.register_node(node_row("b:2:x", "node-b", 50ms)));
    ok(nodes.register_node(node_row("c:3:x", "node-c")));
    CHECK(ok(nodes.set_node_state("a:1:x", node_state::draining)));
    CHECK(ok(nodes.set_node_state("c:3:x", node_state::stopped)));
    CHECK_FALSE(ok(nodes.set_node_state("z:9:x", node_state::draining)));
    CHECK_FALSE(nodes.set_node_state("a:1:x", node_state::lost).has_value());
    auto stopped = node_row("d:4:x", "node-d");
    stopped.state = node_state::stopped;
    CHECK_FALSE(nodes.register_node(stopped).has_value());

    auto all = ok(nodes.list_nodes());
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "node-a");  // by name
    CHECK(all[0].state == node_state::draining);
    CHECK(all[1].state == node_state::active);
    CHECK_FALSE(is_listed(all, "c:3:x"));

    std::this_thread::sleep_for(150ms);
    all = ok(nodes.list_nodes());
    CHECK(listed(all, "b:2:x").state == node_state::lost);
    CHECK(listed(all, "b:2:x").heartbeat_age > 50ms);
    CHECK(listed(all, "a:1:x").state == node_state::draining);
    // A node that beats again is alive again.
    CHECK(ok(nodes.heartbeat_node("b:2:x")));
    CHECK(listed(ok(nodes.list_nodes()), "b:2:x").state == node_state::active);
}

STORE_TEST("a node's running attempts are the running tasks it holds leases on", "[store][nodes]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto& nodes = nodes_of(*store);
    ok(nodes.register_node(node_row("a:1:x", "node-a")));
    ok(nodes.register_node(node_row("b:2:x", "node-b")));
    auto run = ok(store->create_run(make_run("etl", "k1", {"one", "two", "three"}))).id;
    auto tasks = ok(store->list_task_instances(run));
    REQUIRE(tasks.size() == 3);
    CHECK(apply(*store, start_under(tasks[0].id, "a:1:x")) ==
          std::vector{applied, applied, applied});
    CHECK(apply(*store, start_under(tasks[1].id, "a:1:x")) ==
          std::vector{applied, applied, applied});
    CHECK(apply(*store, start_under(tasks[2].id, "b:2:x")) ==
          std::vector{applied, applied, applied});
    auto all = ok(nodes.list_nodes());
    CHECK(listed(all, "a:1:x").running_attempts == 2);
    CHECK(listed(all, "b:2:x").running_attempts == 1);

    // An ended attempt gives its lease up: it no longer counts.
    CHECK(apply(*store, {task_move(tasks[0].id, task_state::running, 1, task_state::success, at(3)),
                         scheduler::lease_release{tasks[0].id, 1, "a:1:x"}}) ==
          std::vector{applied, applied});
    all = ok(nodes.list_nodes());
    CHECK(listed(all, "a:1:x").running_attempts == 1);
    CHECK(listed(all, "b:2:x").running_attempts == 1);
}

STORE_TEST("a sole node marks earlier nodes stopped and week-old rows are forgotten",
           "[store][nodes]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto& nodes = nodes_of(*store);
    const auto now = std::chrono::system_clock::now();
    // A process that is not a node (`sluice run`) and one silent for eight days.
    ok(store->register_instance({"run:5:x", "{}", now, now}));
    ok(store->register_instance({"old:6:x", "{}", now - 24h * 8, now - 24h * 8}));
    ok(nodes.register_node(node_row("a:1:x", "node-a")));
    auto instances = ok(store->list_instances());
    CHECK(instances.size() == 2);
    CHECK(std::none_of(instances.begin(), instances.end(),
                       [](const scheduler::instance_record& i) { return i.id == "old:6:x"; }));
    // Only nodes are listed.
    auto all = ok(nodes.list_nodes());
    REQUIRE(all.size() == 1);
    CHECK(all[0].id == "a:1:x");

    // A process that holds the store alone (SQLite's lock): the others cannot be alive.
    auto sole = node_row("b:2:x", "node-b");
    sole.sole = true;
    ok(nodes.register_node(sole));
    all = ok(nodes.list_nodes());
    REQUIRE(all.size() == 1);
    CHECK(all[0].id == "b:2:x");
    // The row stays for lease_owner_gone; only the listing leaves it out.
    CHECK(ok(store->list_instances()).size() == 3);
}

}  // namespace
}  // namespace sluice::test
