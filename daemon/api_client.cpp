#include "daemon/api_client.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/http_client.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"

namespace sluice::daemon {
namespace {

// A reply body (not a stream) larger than this is not an API answer.
constexpr std::size_t max_reply_bytes = 64 * 1024 * 1024;
constexpr auto connect_timeout = std::chrono::seconds(5);
// Event streams send a keepalive every 15 s; a silent minute means the server is gone.
constexpr auto io_timeout = std::chrono::seconds(60);
constexpr std::size_t max_event_bytes = 1024 * 1024;

struct parsed_url {
    connectors::http_endpoint endpoint;
    std::string base;
};

std::optional<parsed_url> parse_server_url(std::string url, std::string& problem) {
    parsed_url out;
    if (url.starts_with("https://")) {
        out.endpoint.tls = true;
        url = url.substr(8);
    } else if (url.starts_with("http://")) {
        url = url.substr(7);
    } else if (url.find("://") != std::string::npos) {
        problem = "the server URL must start with http:// or https://";
        return std::nullopt;
    }
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    if (url.find('/') != std::string::npos) {
        problem = "the server URL must not have a path (the API lives at /api/v1)";
        return std::nullopt;
    }
    std::string host = url;
    std::string port;
    if (url.starts_with("[")) {
        const auto close = url.find(']');
        if (close == std::string::npos) {
            problem = "unterminated [IPv6] address in the server URL";
            return std::nullopt;
        }
        host = url.substr(1, close - 1);
        if (close + 1 < url.size()) {
            if (url[close + 1] != ':') {
                problem = "expected :PORT after the [IPv6] address";
                return std::nullopt;
            }
            port = url.substr(close + 2);
        }
    } else if (const auto colon = url.rfind(':'); colon != std::string::npos) {
        host = url.substr(0, colon);
        port = url.substr(colon + 1);
    }
    if (host.empty()) {
        problem = "the server URL has no host";
        return std::nullopt;
    }
    out.endpoint.host = host;
    out.endpoint.port = out.endpoint.tls ? 443 : 80;
    if (!port.empty()) {
        char* end = nullptr;
        const long p = std::strtol(port.c_str(), &end, 10);
        if (*end != '\0' || p < 1 || p > 65535) {
            problem = "bad port '" + port + "' in the server URL";
            return std::nullopt;
        }
        out.endpoint.port = static_cast<int>(p);
    }
    const bool v6 = host.find(':') != std::string::npos;
    out.base = std::string(out.endpoint.tls ? "https://" : "http://") + (v6 ? "[" : "") + host +
               (v6 ? "]" : "") + ":" + std::to_string(out.endpoint.port);
    return out;
}

// The address a client reaches a daemon on, from its config's server.listen; over HTTPS the
// configured certificate is the one the daemon must present (`pin_file`).
std::optional<std::string> server_from_config(const client_options& options, std::string& problem,
                                              std::filesystem::path& pin_file) {
    const auto cfg = load_config_or_report(options.config_file, options.environment);
    if (!cfg) {
        problem = "cannot take the server address from " + options.config_file +
                  " (see the errors above); pass --server URL";
        return std::nullopt;
    }
    if (cfg->server.port == 0) {
        problem = options.config_file +
                  " listens on port 0 (any free port); pass --server URL with the bound port";
        return std::nullopt;
    }
    std::string host = cfg->server.host;
    if (host == "0.0.0.0" || host.empty()) {
        host = "127.0.0.1";
    } else if (host == "::") {
        host = "::1";
    }
    if (host.find(':') != std::string::npos) {
        host = "[" + host + "]";
    }
    if (cfg->server.tls) {
        pin_file = cfg->server.tls->cert;
    }
    return (cfg->server.tls ? "https://" : "http://") + host + ":" +
           std::to_string(cfg->server.port);
}

// The first certificate of the daemon's chain file, as PEM text.
std::optional<std::string> read_pin(const std::filesystem::path& file, std::string& problem) {
    std::ifstream in(file);
    std::stringstream content;
    if (in) {
        content << in.rdbuf();
    }
    if (!in || content.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        problem = "cannot read the daemon's certificate " + file.string() +
                  " (server.tls.cert) to verify it" +
                  (in ? std::string(": no PEM certificate in it")
                      : ": " + std::string(std::strerror(errno))) +
                  "; pass --server https://NAME:PORT to verify it by the system's CAs instead";
        return std::nullopt;
    }
    return content.str();
}

std::string trim(std::string s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

int exit_code_for_status(int status) {
    if (status == 401 || status == 403) {
        return exit_denied;
    }
    if (status >= 400 && status < 500) {
        return exit_refused;
    }
    return exit_unavailable;
}

}  // namespace

std::string encode_segment(std::string_view text) {
    return connectors::url_encode(text);
}

std::optional<api_client> api_client::connect(const client_options& options, api_failure& failure) {
    std::string url = options.server;
    if (url.empty()) {
        if (const char* env = std::getenv("SLUICE_SERVER"); env != nullptr && *env != '\0') {
            url = env;
        }
    }
    std::string problem;
    std::filesystem::path pin_file;
    if (url.empty() && !options.config_file.empty()) {
        auto from_config = server_from_config(options, problem, pin_file);
        if (!from_config) {
            failure = {exit_usage, problem};
            return std::nullopt;
        }
        url = *from_config;
    }
    if (url.empty()) {
        url = "http://127.0.0.1:8080";
    }
    auto parsed = parse_server_url(url, problem);
    if (!parsed) {
        failure = {exit_usage, problem + ": " + url};
        return std::nullopt;
    }
    api_client client;
    if (!options.token_file.empty()) {
        std::ifstream in(options.token_file);
        if (!in) {
            // The reason (no such file, permission denied) is what the operator acts on.
            const std::string reason = std::strerror(errno);
            failure = {exit_usage,
                       "cannot read the token file " + options.token_file + ": " + reason};
            return std::nullopt;
        }
        std::stringstream content;
        content << in.rdbuf();
        client.token_ = trim(content.str());
        if (client.token_.empty()) {
            failure = {exit_usage, "the token file " + options.token_file + " is empty"};
            return std::nullopt;
        }
    } else if (const char* env = std::getenv("SLUICE_TOKEN"); env != nullptr) {
        client.token_ = trim(env);
    }
    if (!pin_file.empty()) {
        auto pin = read_pin(pin_file, problem);
        if (!pin) {
            failure = {exit_usage, problem};
            return std::nullopt;
        }
        parsed->endpoint.pinned_certificate_pem = std::move(*pin);
    }
    client.base_url_ = parsed->base;
    client.http_ =
        std::make_unique<connectors::http_client>(parsed->endpoint, connect_timeout, io_timeout);
    return client;
}

api_client::~api_client() = default;
api_client::api_client(api_client&&) noexcept = default;
api_client& api_client::operator=(api_client&&) noexcept = default;

api_failure api_client::unreachable(const core::error& e) const {
    return api_failure{exit_unavailable,
                       "cannot reach the sluice server at " + base_url_ + ": " + e.message +
                           " (is `sluice serve` running there? set --server or SLUICE_SERVER)"};
}

std::optional<api_reply> api_client::call(
    std::string_view method, const std::string& target, const std::optional<nlohmann::json>& body,
    api_failure& failure, const std::vector<std::pair<std::string, std::string>>& extra_headers) {
    std::vector<std::pair<std::string, std::string>> headers{{"Accept", "application/json"}};
    if (!token_.empty()) {
        headers.emplace_back("Authorization", "Bearer " + token_);
    }
    std::string payload;
    // The server wants the JSON type on every mutating call, empty bodies included.
    if (body || method != "GET") {
        headers.emplace_back("Content-Type", "application/json");
    }
    if (body) {
        payload = body->dump();
    }
    headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
    auto head = http_->send(method, target, headers, payload);
    if (!head) {
        failure = unreachable(head.error());
        return std::nullopt;
    }
    auto text = http_->read_body(max_reply_bytes);
    if (!text) {
        failure = unreachable(text.error());
        return std::nullopt;
    }
    api_reply reply{head->status, nlohmann::json::parse(*text, nullptr, false), *text};
    if (reply.body.is_discarded()) {
        reply.body = nullptr;
    }
    if (reply.status >= 200 && reply.status < 300) {
        return reply;
    }
    std::string code = "http_" + std::to_string(reply.status);
    std::string message = trim(reply.text);
    if (reply.body.is_object() && reply.body.contains("error") && reply.body["error"].is_object()) {
        code = reply.body["error"].value("code", code);
        message = reply.body["error"].value("message", message);
    }
    std::string hint;
    if (reply.status == 401) {
        hint = token_.empty() ? " (pass --token-file F or set SLUICE_TOKEN)"
                              : " (the server does not know this token)";
    }
    failure = {exit_code_for_status(reply.status), std::string(method) + " " + base_url_ + target +
                                                       " -> " + std::to_string(reply.status) + " " +
                                                       code + ": " + message + hint};
    return std::nullopt;
}

bool api_client::stream_events(
    const std::string& target,
    const std::function<bool(const std::string&, const std::string&)>& on_event,
    api_failure& failure) {
    std::vector<std::pair<std::string, std::string>> headers{{"Accept", "text/event-stream"}};
    if (!token_.empty()) {
        headers.emplace_back("Authorization", "Bearer " + token_);
    }
    auto head = http_->send("GET", target, headers, "");
    if (!head) {
        failure = unreachable(head.error());
        return false;
    }
    if (head->status != 200) {
        // Read the error body and report it like call() does.
        auto text = http_->read_body(max_reply_bytes);
        const auto j =
            text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json(nullptr);
        std::string code = "http_" + std::to_string(head->status);
        std::string message;
        if (j.is_object() && j.contains("error") && j["error"].is_object()) {
            code = j["error"].value("code", code);
            message = j["error"].value("message", "");
        }
        failure = {exit_code_for_status(head->status), "GET " + base_url_ + target + " -> " +
                                                           std::to_string(head->status) + " " +
                                                           code + ": " + message};
        return false;
    }
    // Server-sent events: lines "event: X" and "data: Y", a blank line ends an event.
    std::string pending;
    std::string event;
    std::string data;
    char chunk[8192];
    for (;;) {
        auto n = http_->read_body_some(chunk, sizeof chunk);
        if (!n) {
            failure = {exit_unavailable,
                       "the event stream from " + base_url_ + " broke: " + n.error().message};
            return false;
        }
        if (*n == 0) {
            return true;
        }
        pending.append(chunk, *n);
        std::size_t start = 0;
        for (auto nl = pending.find('\n', start); nl != std::string::npos;
             nl = pending.find('\n', start)) {
            std::string line = pending.substr(start, nl - start);
            start = nl + 1;
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            if (line.empty()) {
                if (!event.empty() || !data.empty()) {
                    if (!on_event(event.empty() ? "message" : event, data)) {
                        http_->abort();
                        return true;
                    }
                }
                event.clear();
                data.clear();
            } else if (line.starts_with("event:")) {
                event = trim(line.substr(6));
            } else if (line.starts_with("data:")) {
                if (!data.empty()) {
                    data += '\n';
                }
                data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
            }
        }
        pending.erase(0, start);
        if (pending.size() > max_event_bytes) {
            failure = {exit_unavailable, "an event from " + base_url_ + " exceeds 1 MiB"};
            return false;
        }
    }
}

}  // namespace sluice::daemon
