#include "tests/component/etl/http_test_server.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sluice::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct http_test_server::state {
    asio::io_context io;
    tcp::acceptor acceptor{io};
    handler reply;
    mutable std::mutex mutex;
    std::vector<received_request> requests;
    std::vector<std::thread> sessions;
    std::atomic<bool> stopping{false};
    std::thread accept_thread;

    void serve(tcp::socket socket) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            beast::error_code ec;
            http::read(socket, buffer, req, ec);
            if (ec) {
                return;
            }
            received_request r;
            r.method = std::string(req.method_string());
            r.target = std::string(req.target());
            for (const auto& f : req) {
                std::string name(f.name_string());
                std::transform(name.begin(), name.end(), name.begin(), [](char c) {
                    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                });
                r.headers[name] = std::string(f.value());
            }
            r.body = req.body();
            {
                std::lock_guard lock(mutex);
                requests.push_back(r);
            }
            const scripted_reply answer = reply(r);
            const auto until = std::chrono::steady_clock::now() + answer.delay;
            while (std::chrono::steady_clock::now() < until && !stopping) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            http::response<http::string_body> res{static_cast<http::status>(answer.status),
                                                  req.version()};
            res.set(http::field::content_type, answer.content_type);
            if (answer.status >= 200 && answer.status != 204 && answer.status != 304) {
                res.body() = answer.body;  // those three never carry a body
            }
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            http::write(socket, res, ec);
            if (ec || !req.keep_alive()) {
                return;
            }
        }
    }
};

http_test_server::http_test_server(handler reply) : state_(std::make_shared<state>()) {
    state_->reply = std::move(reply);
    tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(local.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(local);
    state_->acceptor.listen();
    state_->accept_thread = std::thread([s = state_] {
        for (;;) {
            beast::error_code ec;
            tcp::socket socket(s->io);
            s->acceptor.accept(socket, ec);
            if (ec || s->stopping) {
                return;
            }
            std::lock_guard lock(s->mutex);
            s->sessions.emplace_back(
                [s, socket = std::move(socket)]() mutable { s->serve(std::move(socket)); });
        }
    });
}

http_test_server::~http_test_server() {
    state_->stopping = true;
    // Wake the blocking accept with a connection of our own, then join everything.
    {
        asio::io_context io;
        tcp::socket poke(io);
        beast::error_code ec;
        poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
    }
    state_->accept_thread.join();
    std::vector<std::thread> sessions;
    {
        std::lock_guard lock(state_->mutex);
        sessions = std::move(state_->sessions);
    }
    for (auto& t : sessions) {
        t.join();
    }
}

int http_test_server::port() const {
    return state_->acceptor.local_endpoint().port();
}

std::string http_test_server::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
}

std::vector<received_request> http_test_server::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

}  // namespace sluice::test
