#pragma once

// The CLI's side of the HTTP API v1: where the server is, the bearer token, one blocking
// request at a time. Beast stays in connectors/http_client.cpp; this header is plain.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace sluice::connectors {
class http_client;
}

namespace sluice::daemon {

// How the CLI finds and authenticates to a daemon (flags, environment, config).
struct client_options {
    std::string server;       // --server URL; "" = SLUICE_SERVER, the config's listen, default
    std::string token_file;   // --token-file F; "" = SLUICE_TOKEN, or no token
    std::string config_file;  // -c: the default server address comes from server.listen
    std::string environment;  // -e
    bool json = false;        // --output json
};

// A parsed API reply: the status and the JSON body (null when the body is not JSON).
struct api_reply {
    int status = 0;
    nlohmann::json body;
    std::string text;  // the raw body
};

// A failed call as the operator should read it, and the process exit code it maps to.
struct api_failure {
    int exit_code = 0;
    std::string message;
};

class api_client {
public:
    // Resolves the server URL and reads the token; fails with a usage message (exit code 2)
    // for a malformed URL, an unreadable token file or a config without a usable address.
    static std::optional<api_client> connect(const client_options& options, api_failure& failure);
    ~api_client();
    api_client(api_client&&) noexcept;
    api_client& operator=(api_client&&) noexcept;

    // Sends one request (body as JSON when given) and reads the whole reply. Any status other
    // than 2xx becomes an api_failure carrying the server's error code and message.
    std::optional<api_reply> call(
        std::string_view method, const std::string& target,
        const std::optional<nlohmann::json>& body, api_failure& failure,
        const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

    // GETs an event stream and hands every event (name, data) to `on_event` until it returns
    // false or the stream ends. Returns false with `failure` set when the stream broke.
    bool stream_events(const std::string& target,
                       const std::function<bool(const std::string&, const std::string&)>& on_event,
                       api_failure& failure);

    // "http://127.0.0.1:8080": where requests go (never includes the token).
    const std::string& base_url() const { return base_url_; }

private:
    api_client() = default;
    api_failure unreachable(const core::error& e) const;
    std::unique_ptr<connectors::http_client> http_;
    std::string base_url_;
    std::string token_;  // "" = none; never printed
};

// Percent-encodes one path segment or query value.
std::string encode_segment(std::string_view text);

}  // namespace sluice::daemon
