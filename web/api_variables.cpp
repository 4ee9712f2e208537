// Variables (admin only). A secret variable's value is write-only: reads show that it is set,
// never what it is.

#include "web/api_impl.hpp"

namespace sluice::web {

namespace {

constexpr std::size_t max_key = 128;
constexpr std::size_t max_value = 64 * 1024;

// Keys become environment names (SLUICE_VAR_<KEY>) and SQL parameter names: keep them plain.
bool valid_key(std::string_view key) {
    return !key.empty() && key.size() <= max_key && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

nlohmann::json variable_json(const scheduler::variable_record& v) {
    return {{"key", v.key},
            {"value", v.secret ? nlohmann::json(nullptr) : nlohmann::json(v.value)},
            {"secret", v.secret},
            {"updated_at", time_json(v.updated_at)}};
}

}  // namespace

void api::impl::add_variable_routes() {
    routes.add("GET", "/api/v1/variables/{key}", access::admin,
               [this](request_context& ctx, responder done) {
                   const std::string key = ctx.params.at("key");
                   blocking([self = shared_from_this(),
                             key] { return self->deps.store->get_variable(key); },
                            [key, done = std::move(done)](
                                core::result<std::optional<scheduler::variable_record>> r) {
                                if (!r) {
                                    return done(store_error(r.error()));
                                }
                                if (!*r) {
                                    return done(error_response(404, "variable_not_found",
                                                               "no variable named " + key));
                                }
                                done(json_response(200, variable_json(**r)));
                            });
               });

    routes.add(
        "PUT", "/api/v1/variables/{key}", access::admin,
        [this](request_context& ctx, responder done) {
            const std::string key = ctx.params.at("key");
            if (!valid_key(key)) {
                return done(error_response(
                    400, "bad_request",
                    "a variable key is 1-128 characters of letters, digits, '_', '-' and '.'"));
            }
            http_response bad;
            auto body = body_object(ctx.request, bad, {"value", "secret"});
            if (!body) {
                return done(std::move(bad));
            }
            const auto value = body->value("value", nlohmann::json(nullptr));
            const auto secret = body->value("secret", nlohmann::json(false));
            if (!value.is_string() || !secret.is_boolean()) {
                return done(error_response(400, "bad_request",
                                           R"(the body is {"value":"TEXT","secret":false|true})"));
            }
            if (value.get<std::string>().size() > max_value) {
                return done(
                    error_response(413, "value_too_large", "a variable value is at most 64 KiB"));
            }
            scheduler::variable_record v;
            v.key = key;
            v.value = value.get<std::string>();
            v.secret = secret.get<bool>();
            v.updated_at = std::chrono::system_clock::now();
            blocking([self = shared_from_this(), v] { return self->deps.store->put_variable(v); },
                     [v, done = std::move(done)](core::result<void> r) {
                         if (!r) {
                             return done(store_error(r.error()));
                         }
                         done(json_response(200, variable_json(v)));
                     });
        });

    routes.add("DELETE", "/api/v1/variables/{key}", access::admin,
               [this](request_context& ctx, responder done) {
                   const std::string key = ctx.params.at("key");
                   blocking([self = shared_from_this(),
                             key] { return self->deps.store->delete_variable(key); },
                            [key, done = std::move(done)](core::result<bool> r) {
                                if (!r) {
                                    return done(store_error(r.error()));
                                }
                                if (!*r) {
                                    return done(error_response(404, "variable_not_found",
                                                               "no variable named " + key));
                                }
                                http_response res;
                                res.status = 204;
                                res.content_type = "application/json";
                                done(std::move(res));
                            });
               });
}

}  // namespace sluice::web
