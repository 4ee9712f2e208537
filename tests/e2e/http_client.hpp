#pragma once

// A minimal blocking HTTP/1.1 client over POSIX sockets for end-to-end tests (one request per
// connection), a server-sent-events reader and raw connections for abuse tests.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::test {

struct http_reply {
    int status = 0;  // 0: no response (connection failed or closed early)
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

http_reply http_call(std::uint16_t port, const std::string& method, const std::string& target,
                     const std::string& body = "", const header_list& headers = {});

// Sends `raw` bytes as they are and reads the reply until the server closes.
http_reply http_raw(std::uint16_t port, const std::string& raw);

// A connected socket (closed by the destructor).
class raw_connection {
public:
    // receive_buffer > 0: SO_RCVBUF before connecting (a client that cannot take much).
    explicit raw_connection(std::uint16_t port, int receive_buffer = 0);
    ~raw_connection();
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;
    bool send(const std::string& bytes);
    // True when the server closed the connection within `wait`.
    bool closed_by_peer(std::chrono::milliseconds wait);
    bool ok() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

struct sse_event {
    std::string event;  // "message" when the stream did not name it
    std::string data;
    std::string id;  // the event's own `id:` line, empty when it had none
};

// Opens an event stream; next() returns events in order until the stream ends.
class sse_reader {
public:
    sse_reader(std::uint16_t port, const std::string& target, const header_list& headers = {});
    ~sse_reader();
    sse_reader(const sse_reader&) = delete;
    sse_reader& operator=(const sse_reader&) = delete;
    int status() const { return status_; }
    const std::map<std::string, std::string>& headers() const { return headers_; }
    // The next event, or nullopt when the stream ended or nothing came within `wait`.
    std::optional<sse_event> next(std::chrono::milliseconds wait);
    bool ended() const { return ended_; }

private:
    bool fill(std::chrono::milliseconds wait);
    int fd_ = -1;
    int status_ = 0;
    std::map<std::string, std::string> headers_;
    std::string buffer_;
    bool ended_ = false;
};

}  // namespace sluice::test
