#pragma once

// A real HTTP server for end-to-end tests of webhook notifications: Boost.Beast on 127.0.0.1,
// port 0, on its own thread. It records every request and answers each with the next status of
// a script (then 200), so a test can make the first tries fail.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::test {

struct received_request {
    std::string method;
    std::string target;
    std::string content_type;
    std::string body;
    int answered = 0;                                          // the status sent back
    std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
};

class webhook_receiver {
public:
    // `statuses`: the answers to the first requests, in order; 200 after them.
    explicit webhook_receiver(std::vector<int> statuses = {});
    ~webhook_receiver();
    webhook_receiver(const webhook_receiver&) = delete;
    webhook_receiver& operator=(const webhook_receiver&) = delete;

    std::uint16_t port() const { return port_; }
    // Waits until `n` requests arrived or `limit` passed; returns every request so far.
    std::vector<received_request> wait_for(std::size_t n, std::chrono::milliseconds limit);
    std::vector<received_request> requests() const;

    struct state;

private:
    // Owned here alone: handlers point at it without owning it, so destroying it (after the
    // io thread is joined) destroys the io_context and with it every pending handler.
    std::unique_ptr<state> state_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

}  // namespace sluice::test
