// libFuzzer target: arbitrary bytes sent as one HTTP connection's input to the real API server
// (web/http_server.cpp and every route of web/api*.cpp) over loopback TCP, in front of a real
// engine on a SQLite store in a temporary directory (docs/api.md). The server must never crash,
// leak, hang or answer 500: a malformed request line, header, chunked body, target or JSON body
// is a 4xx; whatever a route accepts is applied to the store for real. Seeds:
// tests/fuzz/seeds/http_fuzz (one request per route), dictionary tests/fuzz/http.dict.
#include <arpa/inet.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "config/loader.hpp"
#include "daemon/service.hpp"
#include "web/api.hpp"
#include "web/http_server.hpp"

namespace {

using namespace sluice;

// Jobs that exercise every route without starting processes: noop tasks only, one with a
// schedule (backfills), one with a param of each type (trigger validation).
constexpr const char* config_text = R"(
server: {listen: "127.0.0.1:0", max_body_size: 64KiB, read_timeout: 2s}
store: {url: "sqlite://fuzz.db"}
shutdown_grace: 1s
retention: {runs: 0, logs: 0, events: 0}
jobs:
  nightly:
    schedule: "0 3 * * *"
    timezone: Europe/Berlin
    tasks:
      a: {type: noop}
      b: {type: noop, depends_on: [a]}
  typed:
    params:
      s: {type: string, default: x}
      i: {type: integer, default: 1}
      n: {type: number, default: 1.5}
      b: {type: boolean, default: false}
      d: {type: date, default: "2026-01-01"}
      t: {type: timestamp, default: "2026-01-01T00:00:00Z"}
      e: {type: string, values: [red, green], default: red}
    tasks:
      only: {type: noop}
)";

struct server_under_test {
    std::filesystem::path dir;
    std::optional<config::sluice_config> config;
    std::unique_ptr<daemon::service> service;
    std::unique_ptr<web::api> api;
    std::unique_ptr<web::http_server> http;
    std::thread loop_thread;
    std::uint16_t port = 0;

    server_under_test() {
        char tmpl[] = "/tmp/sluice-http-fuzz-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            std::abort();
        }
        dir = tmpl;
        std::ofstream(dir / "sluice.yaml") << config_text;
        auto loaded = config::load_file((dir / "sluice.yaml").string(), {});
        if (!loaded.config) {
            std::abort();
        }
        config = std::move(*loaded.config);
        auto opened = daemon::service::open(
            *config,
            daemon::service_options{.run_schedules = true, .role = "http_fuzz", .instance_id = {}});
        if (!opened) {
            std::abort();
        }
        service = std::move(*opened);
        auto& loop = service->loop();
        api = std::make_unique<web::api>(web::api_dependencies{
            *config, &service->engine(), &service->store(), loop, service->submitter()});
        web::http_limits limits;
        limits.max_body_bytes = config->server.max_body_bytes;
        limits.read_timeout = std::chrono::seconds(2);
        http = std::make_unique<web::http_server>(loop, limits,
                                                  [this](web::http_request r, web::responder done) {
                                                      api->handle(std::move(r), std::move(done));
                                                  });
        if (!http->listen("127.0.0.1", 0)) {
            std::abort();
        }
        port = http->port();
        service->engine().async_start([this](core::result<void> started) {
            if (!started) {
                std::abort();
            }
            api->set_started();
        });
        loop_thread = std::thread([&loop] { loop.run(); });
    }
};

server_under_test& server() {
    // Never destroyed: libFuzzer exits the process, and tearing the loop down from an atexit
    // handler would race its thread.
    static auto* s = new server_under_test();
    return *s;
}

// The whole reply, until the server closes or goes quiet for `quiet`.
std::string exchange(std::uint16_t port, const std::uint8_t* data, std::size_t size) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::abort();  // the server is gone
    }
    for (std::size_t sent = 0; sent < size;) {
        const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break;  // the server closed early (a limit): what it said is still readable
        }
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    std::string reply;
    char buf[16384];
    // The server's own read deadline is 2 s; a reply that never ends is a hang.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 500) <= 0) {
            continue;
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            ::close(fd);
            return reply;
        }
        reply.append(buf, static_cast<std::size_t>(n));
        // Event streams (events, followed logs) never end by design: their header is the reply.
        if (reply.find("Content-Type: text/event-stream") != std::string::npos) {
            ::close(fd);
            return reply;
        }
        if (reply.size() > 64 * 1024 * 1024) {
            break;
        }
    }
    ::close(fd);
    __builtin_trap();  // no end of reply within 10 s
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& s = server();
    const std::string reply = exchange(s.port, data, size);
    // Every reply on the connection: none may be an internal error.
    for (std::size_t at = reply.find("HTTP/1.1 "); at != std::string::npos;
         at = reply.find("HTTP/1.1 ", at + 1)) {
        if (reply.compare(at + 9, 3, "500") == 0) {
            __builtin_trap();
        }
    }
    return 0;
}
