#pragma once

// The HTTP/1.1 listener and its connections (Boost.Beast) on the control loop. Beast stays in
// http_server.cpp: the rest of web/ sees plain http_request / http_response values.
//
// Each connection is a session owning itself (shared_from_this) on its own strand, with do_/on_
// pairs: read one request under the header/body limits and the read deadline, hand it to the
// request handler, write the response (or an event stream), repeat while keep-alive.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "web/http_message.hpp"
#include "web/request_target.hpp"

namespace boost::asio {
class io_context;
}

namespace sluice::web {

struct http_limits {
    std::size_t max_header_bytes = 16 * 1024;  // 431 beyond
    std::size_t max_body_bytes = 1024 * 1024;  // 413 beyond
    // A whole request (header and body) must arrive within this: bounds slowloris clients and
    // idle keep-alive connections alike.
    std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
    // A response must be written within this (event streams excepted: their queues bound them).
    std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
    // Connections beyond this get `429 Too Many Requests` and are closed at once.
    int max_connections = 1024;
};

class http_server {
public:
    http_server(boost::asio::io_context& loop, http_limits limits, request_handler handler);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // HTTPS (docs/operations.md#tls): call before listen(). Called again on a running HTTPS
    // server it replaces the certificate for connections accepted from then on (rotation). PEM
    // files; an unreadable file or a key that does not match the certificate is an error and
    // changes nothing.
    core::result<void> use_tls(const std::filesystem::path& cert, const std::filesystem::path& key);
    bool tls() const;
    // Binds and starts accepting; port 0 picks a free port. Returns "HOST:PORT" as bound.
    core::result<std::string> listen(const std::string& host, std::uint16_t port);
    std::uint16_t port() const;
    // The IP address actually bound ("0.0.0.0", "127.0.0.1", "::"), empty before listen().
    std::string bound_address() const;
    // Stops accepting; open connections finish their current exchange and close.
    void stop();
    // Open connections right now.
    int connections() const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

}  // namespace sluice::web
