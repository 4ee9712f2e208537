#include "connectors/http_client.hpp"

#include <mutex>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <optional>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "config/spec.hpp"
#include "connectors/connection_url.hpp"
#include "connectors/text_codec.hpp"
#include "core/redact.hpp"

namespace sluice::connectors {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A response head larger than this is not from a server we talk to.
constexpr std::uint32_t header_limit = 64 * 1024;

void set_socket_timeout(tcp::socket& socket, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

struct http_client::state {
    asio::io_context io;
    asio::ssl::context tls{asio::ssl::context::tls_client};
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::buffer_body>> parser;
    bool connected = false;
    bool body_done = true;
    bool keep_alive = false;
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds io_timeout;
    // Guards `aborted` and the streams' existence: the owner thread creates and closes the
    // streams under it, abort() reads their descriptors under it.
    std::mutex abort_mutex;
    bool aborted = false;

    tcp::socket& socket() {
        return secure ? beast::get_lowest_layer(*secure).socket() : plain->socket();
    }

    template <class F>
    auto with_stream(F&& f) {
        if (secure) {
            return f(*secure);
        }
        return f(*plain);
    }

    // From any thread (http_client::abort).
    void interrupt() {
        std::lock_guard lock(abort_mutex);
        aborted = true;
        io.stop();  // an async connect in progress returns now (restart is under the lock)
        if (plain) {
            ::shutdown(plain->socket().native_handle(), SHUT_RDWR);
        }
        if (secure) {
            ::shutdown(beast::get_lowest_layer(*secure).socket().native_handle(), SHUT_RDWR);
        }
    }

    bool was_aborted() {
        std::lock_guard lock(abort_mutex);
        return aborted;
    }

    // On the owner thread only.
    void close() {
        std::lock_guard lock(abort_mutex);
        beast::error_code ec;
        if (plain) {
            plain->socket().shutdown(tcp::socket::shutdown_both, ec);
            plain->socket().close(ec);
        }
        if (secure) {
            beast::get_lowest_layer(*secure).socket().shutdown(tcp::socket::shutdown_both, ec);
            beast::get_lowest_layer(*secure).socket().close(ec);
        }
        connected = false;
    }
};

namespace {

// Whether the peer's leaf certificate is the first certificate of `pem`.
bool presents_certificate(beast::ssl_stream<beast::tcp_stream>& stream, const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if (!bio) {
        return false;
    }
    std::unique_ptr<X509, decltype(&X509_free)> pinned(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
    std::unique_ptr<X509, decltype(&X509_free)> peer(
        SSL_get1_peer_certificate(stream.native_handle()), &X509_free);
    return pinned && peer && X509_cmp(pinned.get(), peer.get()) == 0;
}

}  // namespace

http_client::http_client(http_endpoint endpoint, std::chrono::milliseconds connect_timeout,
                         std::chrono::milliseconds io_timeout)
    : endpoint_(std::move(endpoint)), state_(std::make_unique<state>()) {
    state_->connect_timeout = connect_timeout;
    state_->io_timeout = io_timeout;
    if (endpoint_.tls && endpoint_.pinned_certificate_pem.empty()) {
        state_->tls.set_default_verify_paths();
        state_->tls.set_verify_mode(asio::ssl::verify_peer);
    } else if (endpoint_.tls) {
        state_->tls.set_verify_mode(asio::ssl::verify_none);  // checked against the pin instead
    }
}

http_client::~http_client() {
    state_->close();
}

void http_client::abort() {
    state_->interrupt();
}

core::result<http_response_head> http_client::send(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
    state& s = *state_;
    const std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
    if (s.connected && (!s.body_done || !s.keep_alive)) {
        s.close();  // an unread body or a server that said close: start afresh
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = s.connected;
        beast::error_code ec;
        if (!s.connected) {
            tcp::resolver resolver(s.io);
            auto endpoints = resolver.resolve(endpoint_.host, std::to_string(endpoint_.port), ec);
            if (ec) {
                return core::error::transient("cannot resolve " + endpoint_.host + ": " +
                                              ec.message());
            }
            {
                std::lock_guard lock(s.abort_mutex);
                if (s.aborted) {
                    return core::error::transient("HTTP request to " + where + " abandoned");
                }
                s.io.restart();  // under the lock: an abort() from here on stops run()
                s.plain.reset();
                s.secure.reset();
                if (endpoint_.tls) {
                    s.secure.emplace(s.io, s.tls);
                } else {
                    s.plain.emplace(s.io);
                }
            }
            // Connect with a deadline: the async connect honors expires_after.
            beast::tcp_stream& lowest = s.secure ? beast::get_lowest_layer(*s.secure) : *s.plain;
            lowest.expires_after(s.connect_timeout);
            ec = asio::error::operation_aborted;  // unless the connect completes
            lowest.async_connect(endpoints,
                                 [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
            s.io.run();
            if (s.was_aborted()) {
                // The connect may still be pending in the io_context; nothing runs it again
                // (every later call fails), and the state's destruction drops it uninvoked.
                return core::error::transient("HTTP request to " + where + " abandoned");
            }
            lowest.expires_never();
            if (ec) {
                return core::error::transient("cannot connect to " + where + ": " + ec.message());
            }
            set_socket_timeout(s.socket(), s.io_timeout);
            if (s.secure) {
                if (!SSL_set_tlsext_host_name(s.secure->native_handle(), endpoint_.host.c_str())) {
                    return core::error::permanent("cannot set TLS server name " + endpoint_.host);
                }
                if (endpoint_.pinned_certificate_pem.empty()) {
                    s.secure->set_verify_callback(
                        asio::ssl::host_name_verification(endpoint_.host));
                }
                s.secure->handshake(asio::ssl::stream_base::client, ec);
                if (!ec && !endpoint_.pinned_certificate_pem.empty() &&
                    !presents_certificate(*s.secure, endpoint_.pinned_certificate_pem)) {
                    s.close();
                    return core::error::permanent(
                        "TLS handshake with " + where +
                        " failed: the server's certificate is not the pinned one");
                }
                if (ec) {
                    // An untrusted or mismatched certificate will not fix itself on a retry.
                    const long verify = SSL_get_verify_result(s.secure->native_handle());
                    s.close();
                    if (verify != X509_V_OK) {
                        return core::error::permanent("TLS handshake with " + where +
                                                      " failed: certificate not accepted: " +
                                                      X509_verify_cert_error_string(verify));
                    }
                    return core::error::transient("TLS handshake with " + where +
                                                  " failed: " + ec.message());
                }
            }
            s.connected = true;
            s.buffer.clear();
        }
        http::request<http::span_body<const char>> req;
        req.method_string(beast::string_view(method.data(), method.size()));
        req.target(beast::string_view(target.data(), target.size()));
        req.version(11);
        req.set(http::field::host, endpoint_.host);
        req.set(http::field::user_agent, "sluice");
        for (const auto& [k, v] : headers) {
            req.set(k, v);
        }
        req.body() = boost::span<const char>(body.data(), body.size());
        req.prepare_payload();
        s.with_stream([&](auto& stream) { http::write(stream, req, ec); });
        if (!ec) {
            s.parser.emplace();
            s.parser->header_limit(header_limit);
            s.parser->body_limit(boost::none);
            s.with_stream(
                [&](auto& stream) { http::read_header(stream, s.buffer, *s.parser, ec); });
        }
        if (ec) {
            s.close();
            // A kept-alive connection the server closed meanwhile: one fresh try.
            if (reused && attempt == 0) {
                continue;
            }
            return core::error::transient("HTTP request to " + where + " failed: " + ec.message());
        }
        const auto& res = s.parser->get();
        http_response_head head;
        head.status = static_cast<int>(res.result_int());
        for (const auto& field : res) {
            head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        s.keep_alive = res.keep_alive();
        s.body_done = s.parser->is_done();
        return head;
    }
    return core::error::transient("HTTP request to " + where + " failed");
}

core::result<std::size_t> http_client::read_body_some(char* out, std::size_t size) {
    state& s = *state_;
    if (s.body_done || !s.parser) {
        return std::size_t{0};
    }
    // A read may consume only framing (a chunk header): go on until bytes or the end arrive.
    for (;;) {
        auto& body = s.parser->get().body();
        body.data = out;
        body.size = size;
        beast::error_code ec;
        s.with_stream([&](auto& stream) { http::read(stream, s.buffer, *s.parser, ec); });
        if (ec == http::error::need_buffer) {
            ec = {};
        }
        if (ec) {
            s.close();
            s.body_done = true;
            return core::error::transient("reading the response from " + endpoint_.host + ":" +
                                          std::to_string(endpoint_.port) +
                                          " failed: " + ec.message());
        }
        const std::size_t n = size - body.size;
        if (s.parser->is_done()) {
            s.body_done = true;
        }
        if (n > 0 || s.body_done) {
            return n;
        }
    }
}

core::result<std::string> http_client::read_body(std::size_t limit) {
    std::string out;
    char chunk[16384];
    for (;;) {
        auto n = read_body_some(chunk, sizeof chunk);
        if (!n) {
            return n.error();
        }
        if (*n == 0) {
            return out;
        }
        if (out.size() + *n > limit) {
            state_->close();
            return core::error::permanent("response body from " + endpoint_.host +
                                          " is larger than " + std::to_string(limit) + " bytes");
        }
        out.append(chunk, *n);
    }
}

core::result<http_location> locate_http_url(const std::string& url) {
    auto parsed = parse_connection_url(url);
    if (!parsed) {
        return parsed.error();
    }
    if (parsed->scheme != "http" && parsed->scheme != "https") {
        return core::error::permanent("not an http(s) url: " + core::redact_url(url));
    }
    http_location out;
    out.endpoint.tls = parsed->scheme == "https";
    out.endpoint.host = parsed->host;
    out.endpoint.port = parsed->port.value_or(out.endpoint.tls ? 443 : 80);
    const auto authority = url.find("://") + 3;
    const auto path = url.find_first_of("/?", authority);
    out.target = path == std::string::npos ? "/" : url.substr(path);
    if (out.target.front() == '?') {
        out.target.insert(0, "/");
    }
    const auto hash = out.target.find('#');
    if (hash != std::string::npos) {
        out.target.resize(hash);
    }
    if (!parsed->user.empty() || parsed->password) {
        std::string credentials;
        append_base64(credentials, parsed->user + ":" + parsed->password.value_or(""));
        out.authorization = "Basic " + credentials;
    }
    return out;
}

std::string url_encode(std::string_view text) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
            b == '-' || b == '_' || b == '.' || b == '~') {
            out += c;
        } else {
            out += '%';
            out += digits[b >> 4];
            out += digits[b & 0xf];
        }
    }
    return out;
}

}  // namespace sluice::connectors
