// GET /api/v1/nodes: the `sluice serve` processes on this store (docs/cluster.md), each with its
// state as the store's clock decides it, what it runs, and which one answered
// (docs/api.md#nodes).

#include "web/api_nodes.hpp"

#include "scheduler/node_registry.hpp"

namespace sluice::web {

namespace {

// A bound on one listing: a cluster is a handful of nodes, plus the lost ones of the last week.
constexpr std::size_t max_listed_nodes = 1000;

std::int64_t whole_ms(std::chrono::microseconds d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

nlohmann::json node_json(const scheduler::node_record& n, const std::string& self_id) {
    return {{"name", n.name},
            {"id", n.id},
            {"state", scheduler::to_string(n.state)},
            {"self", !self_id.empty() && n.id == self_id},
            {"version", n.version},
            {"config_hash", n.config_hash},
            {"started_at", time_json(n.started_at)},
            {"heartbeat_at", time_json(n.heartbeat_at)},
            {"heartbeat_age_ms", whole_ms(n.heartbeat_age)},
            {"lease_ttl_ms", whole_ms(n.lease_ttl)},
            {"running_attempts", n.running_attempts},
            {"scheduler", n.scheduler}};
}

}  // namespace

void add_node_routes(api::impl& api) {
    api.routes.add(
        "GET", "/api/v1/nodes", access::viewer,
        [impl = &api](request_context& ctx, responder done) {
            if (!ctx.request.query.empty()) {
                return done(error_response(400, "bad_request",
                                           "unknown parameter '" +
                                               ctx.request.query.begin()->first +
                                               "': GET /api/v1/nodes takes no parameters"));
            }
            // A capability of the SQL stores beside run_store (scheduler/node_registry.hpp).
            auto* nodes = dynamic_cast<scheduler::node_registry*>(impl->deps.store);
            if (nodes == nullptr) {
                return done(error_response(501, "not_supported", "this store keeps no nodes"));
            }
            impl->blocking([nodes] { return nodes->list_nodes(); },
                           [self_id = impl->deps.node_id, done = std::move(done)](
                               core::result<std::vector<scheduler::node_record>> r) {
                               if (!r) {
                                   return done(store_error(r.error()));
                               }
                               nlohmann::json list = nlohmann::json::array();
                               for (const auto& n : *r) {
                                   if (list.size() == max_listed_nodes) {
                                       break;
                                   }
                                   list.push_back(node_json(n, self_id));
                               }
                               const bool truncated = r->size() > list.size();
                               done(json_response(
                                   200, {{"nodes", std::move(list)}, {"truncated", truncated}}));
                           });
        });
}

}  // namespace sluice::web
