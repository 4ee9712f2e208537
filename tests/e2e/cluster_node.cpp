#include "cluster_node.hpp"

#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "http_client.hpp"

namespace sluice::test {

using namespace std::chrono_literals;
using nlohmann::json;

node_daemon start_node(const temp_dir& dir, const std::filesystem::path& config,
                       const std::string& name) {
    node_daemon d;
    d.port_file = dir.path() / (name + ".port");
    std::filesystem::remove(d.port_file);
    d.process = std::make_unique<daemon_process>(
        std::vector<std::string>{"serve", "-c", config.string(), "--port-file",
                                 d.port_file.string()},
        dir.path() / (name + ".log"));
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
        std::ifstream in(d.port_file);
        int port = 0;
        if (in >> port && port > 0 &&
            http_call(static_cast<std::uint16_t>(port), "GET", "/readyz").status == 200) {
            d.port = static_cast<std::uint16_t>(port);
            return d;
        }
        std::this_thread::sleep_for(20ms);
    }
    INFO(d.process->output());
    FAIL("node " << name << " did not become ready");
    return d;
}

json nodes_at(std::uint16_t port) {
    auto r = http_call(port, "GET", "/api/v1/nodes");
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body).at("nodes");
}

json node_named(const json& nodes, const std::string& name) {
    for (const auto& n : nodes) {
        if (n.at("name") == name) {
            return n;
        }
    }
    return nullptr;
}

json wait_nodes(std::uint16_t port, const std::function<bool(const json&)>& pred,
                std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    json nodes = nodes_at(port);
    while (!pred(nodes) && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(50ms);
        nodes = nodes_at(port);
    }
    return nodes;
}

std::function<bool(const json&)> state_is(const std::string& name, const std::string& state) {
    return [name, state](const json& nodes) {
        const json n = node_named(nodes, name);
        return state.empty() ? n.is_null() : n.is_object() && n.at("state") == state;
    };
}

std::string scheduler_of(const json& nodes) {
    for (const auto& n : nodes) {
        if (n.value("scheduler", false)) {
            return n.at("name").get<std::string>();
        }
    }
    return "";
}

}  // namespace sluice::test
