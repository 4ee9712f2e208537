#include "web/page_assets.hpp"

#include <array>
#include <cstdlib>
#include <string>

namespace sluice::web {

namespace {

// The page's own first path segments: a deep link (a pasted /runs/7/tasks/load) gets index.html
// and the page routes it. Anything else unknown stays a JSON 404.
constexpr std::array<std::string_view, 9> page_sections{
    "jobs", "runs", "backfills", "events", "variables", "copies", "overview", "signin", "settings"};

const page_file* find_file(std::string_view path) {
    for (const page_file& f : page_files()) {
        if (f.path == path) {
            return &f;
        }
    }
    return nullptr;
}

bool is_page_route(std::string_view path) {
    if (path == "/" || path == "/index.html") {
        return true;
    }
    path.remove_prefix(1);
    const auto section = path.substr(0, path.find('/'));
    for (auto s : page_sections) {
        if (s == section) {
            return true;
        }
    }
    return false;
}

// True when Accept-Encoding lists gzip (or *) without q=0.
bool accepts_gzip(const http_request& request) {
    const std::string* accept = request.header("accept-encoding");
    if (accept == nullptr) {
        return false;
    }
    std::string_view rest = *accept;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        if (!item.starts_with("gzip") && !item.starts_with("*")) {
            continue;
        }
        const auto q = item.find("q=");
        return q == std::string_view::npos ||
               std::strtod(std::string(item.substr(q + 2)).c_str(), nullptr) > 0.0;
    }
    return false;
}

}  // namespace

void add_page_security_headers(http_response& response) {
    response.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
    response.headers.emplace_back("X-Frame-Options", "DENY");
}

std::optional<http_response> serve_page(const http_request& request) {
    if (request.method != "GET") {
        return std::nullopt;
    }
    if (page_files().empty()) {
        // A headless binary: someone opening the page (or a link to it, such as a failure
        // notification's) learns why there is none and where the API is, instead of a JSON 404.
        if (!is_page_route(request.path)) {
            return std::nullopt;
        }
        http_response r;
        r.status = 404;
        add_page_security_headers(r);
        r.content_type = "text/plain; charset=utf-8";
        r.headers.emplace_back("Cache-Control", "no-cache");
        r.body =
            "This sluice was built without its admin page (cmake -DSLUICE_UI=OFF).\n"
            "The HTTP API is at /api/v1/ (docs/api.md); the probes at /livez, /readyz and "
            "/metrics.\n";
        return r;
    }
    const page_file* file = find_file(request.path);
    if (file == nullptr && is_page_route(request.path)) {
        file = find_file("/index.html");
    }
    if (file == nullptr) {
        return std::nullopt;
    }
    http_response r;
    add_page_security_headers(r);
    r.content_type = std::string(file->content_type);
    r.headers.emplace_back("ETag", std::string(file->etag));
    r.headers.emplace_back("Cache-Control",
                           file->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    r.headers.emplace_back("Vary", "Accept-Encoding");
    if (const std::string* match = request.header("if-none-match");
        match != nullptr && match->find(file->etag) != std::string::npos) {
        r.status = 304;
        return r;
    }
    if (accepts_gzip(request)) {
        r.headers.emplace_back("Content-Encoding", "gzip");
        r.body = std::string(file->gzip_body);
    } else {
        r.body = std::string(file->body);
    }
    return r;
}

}  // namespace sluice::web
