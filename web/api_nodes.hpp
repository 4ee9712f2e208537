#pragma once

// GET /api/v1/nodes (api_nodes.cpp).

#include "web/api_impl.hpp"

namespace sluice::web {

// Adds the route listing the cluster's nodes with their states (docs/api.md#nodes).
void add_node_routes(api::impl& api);

}  // namespace sluice::web
