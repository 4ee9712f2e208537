#include "http_client.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice::test {

namespace {

int connect_loopback(std::uint16_t port, int receive_buffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    if (receive_buffer > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads until EOF or `wait` without data; returns what came.
std::string read_all(int fd, std::chrono::milliseconds wait) {
    std::string out;
    char buf[8192];
    while (true) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) {
            break;
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n" (without the body).
int parse_head(const std::string& head, std::map<std::string, std::string>& headers) {
    int status = 0;
    std::size_t pos = head.find("\r\n");
    const std::string first = head.substr(0, pos);
    if (first.size() >= 12 && first.starts_with("HTTP/1.")) {
        status = std::stoi(first.substr(9, 3));
    }
    while (pos != std::string::npos && pos + 2 < head.size()) {
        const std::size_t start = pos + 2;
        pos = head.find("\r\n", start);
        const std::string line =
            head.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
            value.erase(0, 1);
        }
        headers[lower(line.substr(0, colon))] = value;
    }
    return status;
}

http_reply parse_reply(const std::string& raw) {
    http_reply r;
    const auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos) {
        return r;
    }
    r.status = parse_head(raw.substr(0, end), r.headers);
    r.body = raw.substr(end + 4);
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
        r.body.resize(std::min(r.body.size(), static_cast<std::size_t>(std::stoul(it->second))));
    }
    return r;
}

}  // namespace

http_reply http_raw(std::uint16_t port, const std::string& raw) {
    const int fd = connect_loopback(port);
    if (fd < 0) {
        return {};
    }
    send_all(fd, raw);
    // Nothing more will come: a request the server finds incomplete fails at once instead of
    // waiting for its read deadline.
    ::shutdown(fd, SHUT_WR);
    const std::string reply = read_all(fd, std::chrono::seconds(15));
    ::close(fd);
    return parse_reply(reply);
}

http_reply http_call(std::uint16_t port, const std::string& method, const std::string& target,
                     const std::string& body, const header_list& headers) {
    std::string req =
        method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    bool has_type = false;
    for (const auto& [name, value] : headers) {
        req += name + ": " + value + "\r\n";
        has_type = has_type || lower(name) == "content-type";
    }
    // Like every API client: the JSON type on each mutating call (the server requires it).
    if ((!body.empty() || (method != "GET" && method != "HEAD")) && !has_type) {
        req += "Content-Type: application/json\r\n";
    }
    if (!body.empty() || method == "POST" || method == "PUT") {
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    return http_raw(port, req);
}

raw_connection::raw_connection(std::uint16_t port, int receive_buffer)
    : fd_(connect_loopback(port, receive_buffer)) {}

raw_connection::~raw_connection() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool raw_connection::send(const std::string& bytes) {
    return fd_ >= 0 && send_all(fd_, bytes);
}

bool raw_connection::closed_by_peer(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd_, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) {
            continue;
        }
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            return true;
        }
    }
    return false;
}

sse_reader::sse_reader(std::uint16_t port, const std::string& target, const header_list& headers)
    : fd_(connect_loopback(port)) {
    if (fd_ < 0) {
        ended_ = true;
        return;
    }
    std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    for (const auto& [name, value] : headers) {
        req += name + ": " + value + "\r\n";
    }
    send_all(fd_, req + "\r\n");
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
        if (!fill(std::chrono::seconds(10))) {
            ended_ = true;
            return;
        }
    }
    const auto end = buffer_.find("\r\n\r\n");
    status_ = parse_head(buffer_.substr(0, end), headers_);
    buffer_.erase(0, end + 4);
}

sse_reader::~sse_reader() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool sse_reader::fill(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) {
        return false;
    }
    char buf[8192];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
        ended_ = true;
        return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
}

std::optional<sse_event> sse_reader::next(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
        const auto end = buffer_.find("\n\n");
        if (end != std::string::npos) {
            const std::string block = buffer_.substr(0, end);
            buffer_.erase(0, end + 2);
            sse_event e{"message", "", ""};
            bool any = false;
            std::size_t pos = 0;
            while (pos <= block.size()) {
                auto nl = block.find('\n', pos);
                const std::string line = block.substr(pos, nl == std::string::npos ? nl : nl - pos);
                if (line.starts_with("event: ")) {
                    e.event = line.substr(7);
                    any = true;
                } else if (line.starts_with("id: ")) {
                    e.id = line.substr(4);
                } else if (line.starts_with("data: ")) {
                    e.data += (e.data.empty() ? "" : "\n") + line.substr(6);
                    any = true;
                }
                if (nl == std::string::npos) {
                    break;
                }
                pos = nl + 1;
            }
            if (any) {
                return e;
            }
            continue;  // a comment block
        }
        if (ended_) {
            return std::nullopt;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !fill(left)) {
            if (ended_ || std::chrono::steady_clock::now() >= deadline) {
                if (buffer_.find("\n\n") == std::string::npos) {
                    return std::nullopt;
                }
            }
        }
    }
}

}  // namespace sluice::test
