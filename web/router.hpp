#pragma once

// Method + path-pattern routing with `{name}` segments. The route table is public so that the
// OpenAPI document can be checked against what the server actually serves.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"
#include "web/http_message.hpp"

namespace sluice::web {

struct principal;

struct route_params {
    std::map<std::string, std::string> values;
    const std::string& at(const std::string& name) const { return values.at(name); }
};

// What a handler gets: the request, the path parameters and who is calling.
struct request_context {
    http_request request;
    route_params params;
    std::string actor;  // "api:TOKEN_NAME", or "api:anonymous" without tokens
};

using route_handler = std::function<void(request_context&, responder)>;

enum class access { open, viewer, operator_, admin };

struct route {
    std::string method;
    std::string pattern;  // "/api/v1/jobs/{job}"
    access needs = access::viewer;
    bool audited = false;  // mutating: recorded in the audit log
    route_handler handler;
};

class router {
public:
    void add(std::string method, std::string pattern, access needs, route_handler handler);

    struct match_result {
        const route* found = nullptr;
        route_params params;
        std::vector<std::string> allowed;  // path matched, method did not: for 405 Allow
    };
    match_result match(std::string_view method, std::string_view path) const;

    const std::vector<route>& routes() const { return routes_; }

private:
    std::vector<route> routes_;
};

// Splits "/a/b/c" into {"a","b","c"}; empty segments are kept so "/a//b" never matches "/a/b".
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace sluice::web
