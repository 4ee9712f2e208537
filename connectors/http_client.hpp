#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace sluice::connectors {

// Where an HTTP client connects.
struct http_endpoint {
    bool tls = false;  // https: OpenSSL, system CA store, host name verified
    std::string host;
    int port = 80;
    // https: when set (PEM), the server's certificate must be exactly this one, and the CA
    // store and host name are not consulted: how the CLI trusts the daemon whose config names
    // the certificate, whatever name it was issued for (docs/operations.md#tls).
    std::string pinned_certificate_pem;
};

// The start of a response: status and the headers the connectors look at.
struct http_response_head {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
};

// A blocking HTTP/1.1 client on one keep-alive connection (Boost.Beast; all of Beast and Asio
// stays in http_client.cpp so connectors that use it compile fast). One request at a time: send()
// returns the response head, then read_body_some() streams the body, so a large result never
// sits in memory whole. Reconnects when the server closed the idle connection. Every socket
// operation is bounded by `io_timeout`. Errors reaching the server are transient.
class http_client {
public:
    http_client(http_endpoint endpoint, std::chrono::milliseconds connect_timeout,
                std::chrono::milliseconds io_timeout);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    // Sends `method target` with `headers` and `body` (Content-Length), reads the response head.
    // Any unread body of the previous response is discarded (closing the connection).
    core::result<http_response_head> send(
        std::string_view method, std::string_view target,
        const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body);

    // Reads up to `size` bytes of the current body into `out`; 0 at its end.
    core::result<std::size_t> read_body_some(char* out, std::size_t size);

    // Reads the rest of the body, at most `limit` bytes (more is an error).
    core::result<std::string> read_body(std::size_t limit);

    // From any thread: a blocked connect, read or write returns at once with an error, and
    // every later call fails. The socket is shut down, not closed: the thread using it closes
    // it, so no other thread ever touches the socket objects it works with.
    void abort();

    const http_endpoint& endpoint() const { return endpoint_; }

private:
    struct state;
    http_endpoint endpoint_;
    std::unique_ptr<state> state_;
};

// An http(s) url split for http_client.
struct http_location {
    http_endpoint endpoint;
    std::string target;  // path and query, starting with '/'
    // "Basic ..." from the url's user and password; secret: never log it.
    std::optional<std::string> authorization;
};

// Splits an http:// or https:// url (the port defaults to 80 / 443, the fragment is dropped).
// Errors show the url with its password redacted.
core::result<http_location> locate_http_url(const std::string& url);

// "a b/c" -> "a%20b%2Fc": every byte but unreserved characters percent-encoded.
std::string url_encode(std::string_view text);

}  // namespace sluice::connectors
