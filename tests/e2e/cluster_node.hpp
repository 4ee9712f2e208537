#pragma once

// Real `sluice serve` processes as cluster nodes (docs/cluster.md) for the end-to-end tests:
// started with a port file and waited for until /readyz answers, and the node list they serve.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"

namespace sluice::test {

struct node_daemon {
    std::filesystem::path port_file;
    std::unique_ptr<daemon_process> process;
    std::uint16_t port = 0;
};

// `sluice serve -c config` logging to DIR/NAME.log; fails the test unless ready within 30 s.
node_daemon start_node(const temp_dir& dir, const std::filesystem::path& config,
                       const std::string& name);

// GET /api/v1/nodes on `port`: the "nodes" array (fails the test on another status).
nlohmann::json nodes_at(std::uint16_t port);

// The listed node named `name`, or null.
nlohmann::json node_named(const nlohmann::json& nodes, const std::string& name);

// Polls GET /api/v1/nodes on `port` until `pred` holds of the list; the last list either way.
nlohmann::json wait_nodes(std::uint16_t port,
                          const std::function<bool(const nlohmann::json&)>& pred,
                          std::chrono::milliseconds limit);

// The node named `name` is listed in `state` (an empty state: it is not listed).
std::function<bool(const nlohmann::json&)> state_is(const std::string& name,
                                                    const std::string& state);

// The name of the node listed as the scheduler, or "" when none is.
std::string scheduler_of(const nlohmann::json& nodes);

}  // namespace sluice::test
