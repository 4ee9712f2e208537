#pragma once

// The request and response the API sees: plain values, no Beast types, so that routing, auth and
// the handlers compile without Beast and can be tested without sockets.

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::web {

struct http_request {
    std::string method;                          // "GET", "POST", ...
    std::string target;                          // as received: path and query
    std::string path;                            // percent-decoded, without the query
    std::map<std::string, std::string> query;    // decoded; the last value of a repeated key wins
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string remote;  // peer address, for logs

    const std::string* header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? nullptr : &it->second;
    }
};

// A server-sent-events body: the handler pushes formatted events on the loop, the connection
// writes them. Bounded: a client that falls behind by more than `limit` chunks or `max_bytes`
// bytes (whichever comes first: a few long log lines weigh more than many events) is dropped,
// never allowed to grow memory or block the loop. Loop thread only.
class sse_stream {
public:
    // Bytes one stream may queue (docs/api.md#limits-config-server).
    static constexpr std::size_t default_max_bytes = 1024 * 1024;

    explicit sse_stream(std::size_t limit, std::size_t max_bytes = default_max_bytes)
        : limit_(limit), max_bytes_(max_bytes) {}

    // Queues one chunk ("event: ...\ndata: ...\n\n"); false once closed or dropped.
    bool push(std::string chunk) {
        if (closed_ || detached_) {
            return false;
        }
        // One chunk larger than the byte bound still goes out alone, so no single event can
        // make a stream unusable.
        if (queue_.size() >= limit_ || (!queue_.empty() && bytes_ + chunk.size() > max_bytes_)) {
            overflowed_ = true;
            closed_ = true;
            queue_.clear();
            bytes_ = 0;
            wake();
            return false;
        }
        bytes_ += chunk.size();
        queue_.push_back(std::move(chunk));
        wake();
        return true;
    }
    // True when `bytes` more fit within half of both bounds (or nothing is queued): producers
    // that can wait (a log follower reading the store) push only then, so a slow reader slows
    // them down instead of being dropped.
    bool has_room(std::size_t bytes) const {
        return queue_.empty() || (queue_.size() < limit_ / 2 && bytes_ + bytes <= max_bytes_ / 2);
    }
    // Ends the stream once the queued chunks are written.
    void close() {
        closed_ = true;
        wake();
    }
    bool closed() const { return closed_; }
    bool overflowed() const { return overflowed_; }
    // The connection went away: producers stop.
    bool detached() const { return detached_; }

    // ---- connection side ----
    void set_wakeup(std::function<void()> f) { wakeup_ = std::move(f); }
    std::deque<std::string> take() {
        bytes_ = 0;
        return std::exchange(queue_, {});
    }
    bool empty() const { return queue_.empty(); }
    void detach() {
        detached_ = true;
        wakeup_ = nullptr;
        if (on_detach_) {
            auto f = std::move(on_detach_);
            f();
        }
    }
    // Called once when the connection goes away (unsubscribe, stop polling).
    void set_on_detach(std::function<void()> f) { on_detach_ = std::move(f); }

private:
    void wake() {
        if (wakeup_) {
            wakeup_();
        }
    }

    std::size_t limit_;
    std::size_t max_bytes_;
    std::size_t bytes_ = 0;  // queued, not yet taken
    std::deque<std::string> queue_;
    bool closed_ = false;
    bool overflowed_ = false;
    bool detached_ = false;
    std::function<void()> wakeup_;
    std::function<void()> on_detach_;
};

struct http_response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // values free of CR/LF/NUL
    std::shared_ptr<sse_stream> stream;  // set: an event stream follows the header
};

// Completes a request; may be called from the loop thread only, exactly once.
using responder = std::function<void(http_response)>;
// The whole API as the connection layer sees it.
using request_handler = std::function<void(http_request, responder)>;

// Drops CR, LF and NUL so that nothing from user input can split a response header.
std::string header_safe(std::string_view value);

}  // namespace sluice::web
