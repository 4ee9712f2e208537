#pragma once

// A real HTTP/1.1 peer for http task tests: a Boost.Beast server on 127.0.0.1 (port 0, chosen by
// the kernel) on its own thread. Each request is recorded and answered by a scripted reply.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::test {

struct received_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

struct scripted_reply {
    int status = 200;
    std::string body;
    std::string content_type = "text/plain";
    std::chrono::milliseconds delay{0};  // before the answer (for timeouts and cancels)
};

class http_test_server {
public:
    using handler = std::function<scripted_reply(const received_request&)>;

    explicit http_test_server(handler reply);
    ~http_test_server();
    http_test_server(const http_test_server&) = delete;
    http_test_server& operator=(const http_test_server&) = delete;

    int port() const;
    std::string url(const std::string& path) const;
    std::vector<received_request> requests() const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

}  // namespace sluice::test
