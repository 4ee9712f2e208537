// GET /api/v1/variables (admin): every variable, for the admin page's list. Secret values are
// write-only here too: a listing shows that they are set, never what they are.

#include "web/api_impl.hpp"

namespace sluice::web {

namespace {

// A bound on what one listing returns: variables are configuration, not data.
constexpr std::size_t max_listed_variables = 10000;

}  // namespace

void api::impl::add_variable_list_route() {
    routes.add("GET", "/api/v1/variables", access::admin, [this](request_context&, responder done) {
        blocking([self = shared_from_this()] { return self->deps.store->list_variables(); },
                 [done = std::move(done)](core::result<std::vector<scheduler::variable_record>> r) {
                     if (!r) {
                         return done(store_error(r.error()));
                     }
                     nlohmann::json list = nlohmann::json::array();
                     for (const auto& v : *r) {
                         if (list.size() == max_listed_variables) {
                             break;
                         }
                         list.push_back({{"key", v.key},
                                         {"value", v.secret ? nlohmann::json(nullptr)
                                                            : nlohmann::json(v.value)},
                                         {"secret", v.secret},
                                         {"updated_at", time_json(v.updated_at)}});
                     }
                     done(json_response(
                         200, {{"variables", list}, {"truncated", r->size() > list.size()}}));
                 });
    });
}

}  // namespace sluice::web
