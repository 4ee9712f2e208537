// GET /api/v1/session: who the caller is and what its role allows, so a client (the admin page)
// shows only the controls the server will accept. The server still checks every call.
#include "web/api_impl.hpp"

namespace sluice::web {

void api::impl::add_session_routes() {
    routes.add("GET", "/api/v1/session", access::viewer,
               [this](request_context& ctx, responder done) {
                   if (!auth.enabled()) {
                       return done(json_response(
                           200, {{"auth", false}, {"name", "anonymous"}, {"role", "admin"}}));
                   }
                   // The route needs a token, so the caller was authenticated already.
                   auto who = auth.authenticate(ctx.request.header("authorization"));
                   if (!who) {
                       return done(error_response(401, "unauthorized", "unknown token"));
                   }
                   done(json_response(200, {{"auth", true},
                                            {"name", who->name},
                                            {"role", std::string(config::to_string(who->role))}}));
               });
}

}  // namespace sluice::web
