#pragma once

// Internal to the PostgreSQL and MySQL connectors: a cancel that cannot hang. libpq's cancel
// request and a MySQL KILL QUERY wait for the server's answer without a timeout, and so does the
// statement they are meant to end: against a server that hangs (frozen, its host or the network
// gone) both would block forever, and an attempt would outlive its task timeout.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace sluice::connectors {

class bounded_cancel {
public:
    // `socket`: the connection's socket (duplicated here: libpq may close its own descriptor,
    // and the number be reused, while the statement's thread runs); `wait`: how long the
    // server has to answer the cancel request.
    bounded_cancel(int socket, std::chrono::seconds wait);
    ~bounded_cancel();
    bounded_cancel(const bounded_cancel&) = delete;
    bounded_cancel& operator=(const bounded_cancel&) = delete;

    // Runs `request` (the blocking cancel request; it must own everything it uses, as it may
    // outlive this object) on a thread of its own and waits up to `wait` for it. When it
    // has not returned by then, the server is not answering: the connection's socket is shut
    // down, so the call blocked on it returns an error at once (the server rolls the open
    // transaction back when it sees the connection gone). A call while an earlier request is
    // still unanswered shuts the socket down at once. Thread-safe; blocks at most `wait`.
    void operator()(std::function<void()> request);

private:
    int socket_ = -1;
    std::chrono::seconds wait_;
    // True while a request is out and unanswered (shared with its thread).
    std::shared_ptr<std::atomic<bool>> pending_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace sluice::connectors
