#pragma once

// The admin page (web/ui, docs/ui.md), built by esbuild and embedded into the binary by a
// CMake-generated source (page_files()). Hashed assets are cached for good, index.html is
// revalidated; every page response carries the browser security headers.

#include <optional>
#include <span>
#include <string_view>

#include "web/http_message.hpp"

namespace sluice::web {

struct page_file {
    std::string_view path;          // "/index.html", "/assets/main-5KX2P4.js"
    std::string_view content_type;  // with charset for text
    std::string_view etag;          // quoted: "\"sha256-prefix\""
    bool immutable = false;         // content-hashed name: never changes
    std::string_view body;
    std::string_view gzip_body;  // gzip -9 of body
};

// Every embedded file; empty in a headless build (-DSLUICE_UI=OFF).
std::span<const page_file> page_files();

// The response to a GET of the page (index.html for `/` and for the page's own deep links; in
// a headless build a plain-text 404 saying so), or nullopt when the request is not for the page.
std::optional<http_response> serve_page(const http_request& request);

// The headers every page response carries: a strict Content-Security-Policy (no inline script,
// no framing), nosniff, no referrer.
void add_page_security_headers(http_response& response);

}  // namespace sluice::web
