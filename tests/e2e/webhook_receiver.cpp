#include "webhook_receiver.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sluice::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Member order is destruction order reversed: the acceptor goes first, then the io_context
// (destroying the sessions its pending handlers hold, which use the recorded requests only
// through a raw pointer), and the recorded requests last.
struct webhook_receiver::state {
    mutable std::mutex mutex;
    std::condition_variable arrived;
    std::deque<int> statuses;
    std::vector<received_request> requests;
    asio::io_context io;
    tcp::acceptor acceptor{io};

    int record(received_request r) {
        std::lock_guard lock(mutex);
        int status = 200;
        if (!statuses.empty()) {
            status = statuses.front();
            statuses.pop_front();
        }
        r.answered = status;
        requests.push_back(std::move(r));
        arrived.notify_all();
        return status;
    }
};

namespace {

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, webhook_receiver::state& s)
        : stream_(std::move(socket)), state_(s) {}

    void read() {
        request_ = {};
        stream_.expires_after(std::chrono::seconds(30));
        http::async_read(
            stream_, buffer_, request_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

private:
    void on_read(beast::error_code ec) {
        if (ec) {
            return;
        }
        received_request r;
        r.method = std::string(request_.method_string());
        r.target = std::string(request_.target());
        r.content_type = std::string(request_[http::field::content_type]);
        for (const auto& field : request_) {
            r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        r.body = request_.body();
        const int status = state_.record(std::move(r));
        response_ = {};
        response_.version(11);
        response_.result(static_cast<unsigned>(status));
        response_.set(http::field::content_type, "text/plain");
        response_.body() = status == 200 ? "ok" : "no";
        response_.keep_alive(request_.keep_alive());
        response_.prepare_payload();
        http::async_write(
            stream_, response_, [self = shared_from_this()](beast::error_code e, std::size_t) {
                if (!e && self->response_.keep_alive()) {
                    self->read();
                } else {
                    beast::error_code ignored;
                    self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                }
            });
    }

    beast::tcp_stream stream_;
    webhook_receiver::state& state_;  // outlives every session: see state
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
};

void accept(webhook_receiver::state& s) {
    s.acceptor.async_accept([&s](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            return;
        }
        std::make_shared<session>(std::move(socket), s)->read();
        accept(s);
    });
}

}  // namespace

webhook_receiver::webhook_receiver(std::vector<int> statuses) : state_(std::make_unique<state>()) {
    state_->statuses.assign(statuses.begin(), statuses.end());
    const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(at.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(at);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    accept(*state_);
    thread_ = std::thread([s = state_.get()] { s->io.run(); });
}

// Stops and joins the io thread before `state_` is destroyed, so no handler runs while the
// io_context destroys the pending ones (and the sessions they hold).
webhook_receiver::~webhook_receiver() {
    state_->io.stop();
    thread_.join();
}

std::vector<received_request> webhook_receiver::wait_for(std::size_t n,
                                                         std::chrono::milliseconds limit) {
    std::unique_lock lock(state_->mutex);
    state_->arrived.wait_for(lock, limit, [&] { return state_->requests.size() >= n; });
    return state_->requests;
}

std::vector<received_request> webhook_receiver::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

}  // namespace sluice::test
