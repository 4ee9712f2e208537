// The only translation unit that includes Boost.Beast (build time: see http_server.hpp).

#include "web/http_server.hpp"

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <optional>
#include <type_traits>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.hpp"

namespace sluice::web {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct http_server::state : std::enable_shared_from_this<http_server::state> {
    state(net::io_context& l, http_limits lim, request_handler h)
        : loop(l), limits(lim), handler(std::move(h)), acceptor(l) {}

    void do_accept();
    void on_accept(beast::error_code ec, tcp::socket socket);

    std::shared_ptr<net::ssl::context> tls_context() {
        std::lock_guard lock(tls_mutex);
        return tls;
    }

    net::io_context& loop;
    http_limits limits;
    request_handler handler;
    tcp::acceptor acceptor;
    std::atomic<int> open{0};
    bool stopped = false;
    // Set before listen() for HTTPS; replaced by a reload (certificate rotation): connections
    // accepted later use the new one, open ones keep theirs.
    std::mutex tls_mutex;
    std::shared_ptr<net::ssl::context> tls;
    std::atomic<bool> https{false};
    std::shared_ptr<spdlog::logger> log = core::component_logger("web");
};

namespace {

// SO_SNDBUF for event-stream connections (Linux doubles it for bookkeeping).
constexpr int sse_send_buffer_bytes = 64 * 1024;
// Room in a connection's read buffer beyond the header and body limits, for what neither
// counts: chunk-size lines, chunk extensions and framing. Beast bounds the header (trailers
// included) and the body, but not those, so without a maximum on the buffer an endless chunk
// extension grew memory until the read deadline.
constexpr std::size_t request_buffer_slack = 16 * 1024;

// A fixed JSON error for failures found before a request reached the API (parse errors, limits).
std::string error_json(std::string_view code, std::string_view message) {
    std::string out = R"({"error":{"code":")";
    out += code;
    out += R"(","message":")";
    out += message;
    out += R"("}})";
    return out;
}

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// One connection over plain TCP or TLS; the two differ only in the handshake and the close.
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
    static constexpr bool secure = std::is_same_v<Stream, tls_stream>;

public:
    session(tcp::socket&& socket, std::shared_ptr<http_server::state> server) requires(!secure)
        : stream_(std::move(socket)),
          server_(std::move(server)),
          buffer_(server_->limits.max_header_bytes + server_->limits.max_body_bytes +
                  request_buffer_slack) {
        ++server_->open;
    }
    session(tcp::socket&& socket, std::shared_ptr<http_server::state> server,
            std::shared_ptr<net::ssl::context> tls) requires secure
        : tls_(std::move(tls)),
          stream_(std::move(socket), *tls_),
          server_(std::move(server)),
          buffer_(server_->limits.max_header_bytes + server_->limits.max_body_bytes +
                  request_buffer_slack) {
        ++server_->open;
    }
    ~session() {
        --server_->open;
        if (sse_) {
            sse_->detach();
        }
    }

    void run() {
        if constexpr (secure) {
            // The handshake counts against the read deadline like a request would.
            lowest().expires_after(server_->limits.read_timeout);
            stream_.async_handshake(net::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (ec) {
                                            // Plain HTTP to the HTTPS port, a scanner, an untrusted
                                            // certificate.
                                            self->server_->log->debug(
                                                "TLS handshake with {} failed: {}", self->peer(),
                                                ec.message());
                                            return;
                                        }
                                        self->do_read();
                                    });
        } else {
            net::dispatch(stream_.get_executor(),
                          beast::bind_front_handler(&session::do_read, this->shared_from_this()));
        }
    }

private:
    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

    void do_read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
        parser_->body_limit(server_->limits.max_body_bytes);
        lowest().expires_after(server_->limits.read_timeout);
        http::async_read_header(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&session::on_header, this->shared_from_this()));
    }

    // The header is in (and within its limit; a Content-Length over the body limit already
    // failed). A client that sent `Expect: 100-continue` (curl does for larger bodies) waits
    // for our go-ahead before sending the body.
    void on_header(beast::error_code ec, std::size_t n) {
        if (ec || parser_->is_done()) {
            return on_read(ec, n);
        }
        if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
            auto go_ahead =
                std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
            return http::async_write(
                stream_, *go_ahead,
                [self = this->shared_from_this(), go_ahead](beast::error_code ec, std::size_t) {
                    if (ec) {
                        return;
                    }
                    self->read_body();
                });
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&session::on_read, this->shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream || ec == net::error::eof ||
            ec == net::error::connection_reset || ec == net::error::operation_aborted) {
            return do_close();
        }
        if (ec == beast::error::timeout) {
            // Slowloris or an idle keep-alive connection: just close, the peer is not reading.
            return;
        }
        if (ec == http::error::body_limit) {
            return reject(413, "body_too_large",
                          "the request body exceeds " +
                              std::to_string(server_->limits.max_body_bytes) + " bytes");
        }
        if (ec == http::error::buffer_overflow) {
            return reject(
                413, "request_too_large",
                "the request (header, body and chunk framing) exceeds " +
                    std::to_string(server_->limits.max_header_bytes +
                                   server_->limits.max_body_bytes + request_buffer_slack) +
                    " bytes");
        }
        if (ec == http::error::header_limit) {
            return reject(431, "headers_too_large",
                          "the request header exceeds " +
                              std::to_string(server_->limits.max_header_bytes) + " bytes");
        }
        if (ec) {
            return reject(400, "bad_request", "malformed HTTP request");
        }
        auto& req = parser_->get();
        http_request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        if (!parse_target(r.target, r.path, r.query)) {
            return reject(400, "bad_request", "malformed request target");
        }
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            r.headers[name] = std::string(field.value());
        }
        r.body = std::move(req.body());
        beast::error_code ignored;
        const auto peer = lowest().socket().remote_endpoint(ignored);
        r.remote = ignored ? "?" : peer.address().to_string();
        keep_alive_ = req.keep_alive();
        lowest().expires_never();
        // The handler completes on the loop; hop back onto this connection's strand.
        server_->handler(std::move(r), [self = this->shared_from_this()](http_response res) {
            net::dispatch(self->stream_.get_executor(),
                          [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
        });
    }

    void reject(int status, std::string_view code, const std::string& message) {
        http_response res;
        res.status = status;
        res.body = error_json(code, message);
        keep_alive_ = false;
        send(std::move(res));
    }

    void send(http_response res) {
        if (res.stream) {
            return start_stream(std::move(res));
        }
        auto msg = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(res.status), 11);
        msg->set(http::field::server, "sluice");
        msg->set(http::field::content_type, header_safe(res.content_type));
        for (const auto& [name, value] : res.headers) {
            msg->set(header_safe(name), header_safe(value));
        }
        msg->body() = std::move(res.body);
        msg->keep_alive(keep_alive_);
        msg->prepare_payload();
        lowest().expires_after(server_->limits.write_timeout);
        http::async_write(
            stream_, *msg,
            [self = this->shared_from_this(), msg](beast::error_code ec, std::size_t) {
                self->on_write(ec, msg->need_eof());
            });
    }

    void on_write(beast::error_code ec, bool close) {
        if (ec) {
            return;
        }
        if (close || server_->stopped) {
            return do_close();
        }
        do_read();
    }

    // An event stream: the header, then whatever the stream's producer pushes, until it closes,
    // overflows (slow client) or the client goes away. No content length: the end of the
    // connection ends the body.
    void start_stream(http_response res) {
        sse_ = std::move(res.stream);
        // Bound the kernel's buffering for a stream client too: one that stops reading then
        // overflows its queue after ~100 KiB of events, not after megabytes of socket buffer.
        beast::error_code ec;
        lowest().socket().set_option(net::socket_base::send_buffer_size(sse_send_buffer_bytes), ec);
        if (ec) {
            server_->log->debug("cannot bound the send buffer of an event stream ({}): {}", peer(),
                                ec.message());
        }
        auto msg = std::make_shared<http::response<http::empty_body>>(
            static_cast<http::status>(res.status), 11);
        msg->set(http::field::server, "sluice");
        msg->set(http::field::content_type, header_safe(res.content_type));
        msg->set(http::field::cache_control, "no-cache");
        for (const auto& [name, value] : res.headers) {
            msg->set(header_safe(name), header_safe(value));
        }
        msg->keep_alive(false);
        auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*msg);
        lowest().expires_after(server_->limits.write_timeout);
        http::async_write_header(
            stream_, *sr,
            [self = this->shared_from_this(), msg, sr](beast::error_code ec, std::size_t) {
                if (ec) {
                    return self->end_stream();
                }
                self->lowest().expires_never();
                std::weak_ptr<session> weak = self;
                self->sse_->set_wakeup([weak] {
                    if (auto s = weak.lock()) {
                        net::dispatch(s->stream_.get_executor(), [s] { s->pump(); });
                    }
                });
                self->watch_peer();
                self->pump();
            });
    }

    // Reads (and discards) from the client so that a disconnect is noticed while idle.
    void watch_peer() {
        stream_.async_read_some(net::buffer(discard_), [self = this->shared_from_this()](
                                                           beast::error_code ec, std::size_t) {
            if (ec) {
                return self->end_stream();
            }
            self->watch_peer();
        });
    }

    void pump() {
        if (!sse_ || ended_) {
            return;
        }
        if (sse_->overflowed()) {
            // Also while a write is pending: a client that stopped reading never completes it,
            // and closing the socket is what cancels it.
            server_->log->warn("dropped an event-stream client ({}) that fell behind", peer());
            return end_stream();
        }
        if (writing_) {
            return;
        }
        if (sse_->empty()) {
            if (sse_->closed()) {
                end_stream();
            }
            return;
        }
        out_.clear();
        for (auto& chunk : sse_->take()) {
            out_ += chunk;
        }
        writing_ = true;
        net::async_write(stream_, net::buffer(out_),
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->writing_ = false;
                             if (ec) {
                                 return self->end_stream();
                             }
                             self->pump();
                         });
    }

    void end_stream() {
        if (ended_) {
            return;
        }
        ended_ = true;
        if (sse_) {
            sse_->detach();
        }
        beast::error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
    }

    std::string peer() {
        beast::error_code ignored;
        const auto ep = lowest().socket().remote_endpoint(ignored);
        return ignored ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    }

    void do_close() {
        if constexpr (secure) {
            // close_notify, bounded: a peer that never answers it is cut at the deadline.
            lowest().expires_after(server_->limits.write_timeout);
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                beast::error_code ignored;
                self->lowest().socket().close(ignored);
            });
        } else {
            beast::error_code ignored;
            lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    std::shared_ptr<net::ssl::context> tls_;  // before stream_, which refers to it
    Stream stream_;
    std::shared_ptr<http_server::state> server_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    bool keep_alive_ = true;
    std::shared_ptr<sse_stream> sse_;
    std::string out_;
    std::array<char, 512> discard_{};
    bool writing_ = false;
    bool ended_ = false;
};

// Over max_connections: a canned 429 and close, without reading the request.
void refuse(tcp::socket socket) {
    static const std::string response =
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: "
        "close\r\nRetry-After: 1\r\nContent-Length: " +
        std::to_string(
            error_json("too_many_connections", "the server is at its connection limit").size()) +
        "\r\n\r\n" + error_json("too_many_connections", "the server is at its connection limit");
    auto s = std::make_shared<tcp::socket>(std::move(socket));
    net::async_write(*s, net::buffer(response), [s](beast::error_code, std::size_t) {
        beast::error_code ignored;
        s->shutdown(tcp::socket::shutdown_both, ignored);
    });
}

}  // namespace

void http_server::state::do_accept() {
    acceptor.async_accept(net::make_strand(loop),
                          beast::bind_front_handler(&state::on_accept, shared_from_this()));
}

void http_server::state::on_accept(beast::error_code ec, tcp::socket socket) {
    if (stopped || ec == net::error::operation_aborted) {
        return;
    }
    if (ec) {
        // E.g. EMFILE: log and keep accepting; the limit below is what should prevent it.
        log->warn("accept failed: {}", ec.message());
    } else if (open.load() >= limits.max_connections) {
        refuse(std::move(socket));
    } else if (https) {
        std::make_shared<session<tls_stream>>(std::move(socket), shared_from_this(), tls_context())
            ->run();
    } else {
        std::make_shared<session<plain_stream>>(std::move(socket), shared_from_this())->run();
    }
    do_accept();
}

http_server::http_server(net::io_context& loop, http_limits limits, request_handler handler)
    : state_(std::make_shared<state>(loop, limits, std::move(handler))) {}

http_server::~http_server() {
    stop();
}

core::result<std::string> http_server::listen(const std::string& host, std::uint16_t port) {
    beast::error_code ec;
    auto address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) {
        return core::error::permanent("server.listen: '" + host +
                                      "' is not an IP address: " + ec.message());
    }
    tcp::endpoint endpoint(address, port);
    auto& a = state_->acceptor;
    a.open(endpoint.protocol(), ec);
    if (!ec) {
        a.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        a.bind(endpoint, ec);
    }
    if (!ec) {
        a.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return core::error::permanent("cannot listen on " + host + ":" + std::to_string(port) +
                                      ": " + ec.message());
    }
    state_->do_accept();
    const auto bound = a.local_endpoint(ec);
    const std::string shown =
        address.is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
    return shown + ":" + std::to_string(bound.port());
}

core::result<void> http_server::use_tls(const std::filesystem::path& cert,
                                        const std::filesystem::path& key) {
    auto context = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
    // TLS 1.2 and 1.3 only; no renegotiation, compression or session tickets keyed for life.
    context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                         net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                         net::ssl::context::no_tlsv1_1 | net::ssl::context::no_compression |
                         net::ssl::context::single_dh_use);
    SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION);
    beast::error_code ec;
    context->use_certificate_chain_file(cert.string(), ec);
    if (ec) {
        return core::error::permanent("server.tls.cert: cannot use " + cert.string() + ": " +
                                      ec.message());
    }
    context->use_private_key_file(key.string(), net::ssl::context::pem, ec);
    if (ec &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
        return core::error::permanent("server.tls: the key " + key.string() +
                                      " does not belong to the certificate " + cert.string());
    }
    if (ec) {
        // The key file's content never appears in the message, only OpenSSL's reason.
        return core::error::permanent("server.tls.key: cannot use " + key.string() + ": " +
                                      ec.message());
    }
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
        return core::error::permanent("server.tls: the key " + key.string() +
                                      " does not belong to the certificate " + cert.string());
    }
    std::lock_guard lock(state_->tls_mutex);
    state_->tls = std::move(context);
    state_->https = true;
    return {};
}

bool http_server::tls() const {
    return state_->https;
}

std::uint16_t http_server::port() const {
    beast::error_code ec;
    const auto ep = state_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

std::string http_server::bound_address() const {
    beast::error_code ec;
    const auto ep = state_->acceptor.local_endpoint(ec);
    return ec ? std::string() : ep.address().to_string();
}

void http_server::stop() {
    state_->stopped = true;
    beast::error_code ignored;
    state_->acceptor.close(ignored);
}

int http_server::connections() const {
    return state_->open.load();
}

}  // namespace sluice::web
