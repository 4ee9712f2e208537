// End-to-end: `sluice serve` under a fake systemd: sd_notify messages on a NOTIFY_SOCKET the
// test owns (READY=1, WATCHDOG=1 pings, RELOADING=1/READY=1 around SIGHUP, STOPPING=1), and a
// SIGHUP with a good and a broken config (docs/operations.md#reload).
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"

using Catch::Matchers::Contains;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

const std::string config_yaml = R"(server:
  listen: "127.0.0.1:0"
store:
  url: "sqlite://var/e2e.db"
shutdown_grace: 1s
jobs:
  hello:
    schedule: "30 2 * * *"
    tasks:
      greet:
        type: noop
)";

// The AF_UNIX datagram socket systemd would listen on.
class notify_socket {
public:
    notify_socket() {
        char tmpl[] = "/tmp/sluice-e2e-notify-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/notify";
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        timeval tv{0, 100 * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~notify_socket() {
        ::close(fd_);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    const std::string& path() const { return path_; }

    // Receives messages until `done` says so or `limit` passes; every message is kept.
    bool receive_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            char buf[4096];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                messages.emplace_back(buf, static_cast<std::size_t>(n));
            }
        }
        return true;
    }
    std::size_t count_containing(const std::string& text, std::size_t from = 0) const {
        std::size_t n = 0;
        for (std::size_t i = from; i < messages.size(); ++i) {
            n += messages[i].find(text) != std::string::npos ? 1 : 0;
        }
        return n;
    }
    std::vector<std::string> messages;

private:
    std::string dir_;
    std::string path_;
    int fd_ = -1;
};

bool log_has(const http_daemon& d, const std::string& text) {
    return d.log().find(text) != std::string::npos;
}

bool wait_for_log(const http_daemon& d, const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!log_has(d, text)) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

}  // namespace

TEST_CASE("sd_notify: READY=1 once serving and WATCHDOG=1 pings from the loop and STOPPING=1",
          "[e2e][systemd]") {
    notify_socket sock;
    // A 300 ms watchdog: pings every 150 ms.
    http_daemon d(config_yaml, {"NOTIFY_SOCKET=" + sock.path(), "WATCHDOG_USEC=300000"});
    REQUIRE(d.port() != 0);
    REQUIRE(sock.receive_until([&] { return sock.count_containing("READY=1") >= 1; }, 10s));
    CHECK(http_call(d.port(), "GET", "/readyz").status == 200);
    // Drain what queued up while the test looked elsewhere, then count the pings of one second:
    // about 6 at 150 ms; at least 3 on a loaded machine, and never a flood.
    sock.receive_until([] { return false; }, 200ms);
    const auto before = sock.messages.size();
    sock.receive_until([] { return false; }, 1000ms);
    const auto pings = sock.count_containing("WATCHDOG=1", before);
    CHECK(pings >= 3);
    CHECK(pings <= 12);
    CHECK_THAT(d.log(), Contains("systemd watchdog: pinging every 150ms"));

    CHECK(d.stop() == 0);
    CHECK(sock.receive_until([&] { return sock.count_containing("STOPPING=1") >= 1; }, 2s));
    CHECK(sock.count_containing("READY=1") == 1);
}

TEST_CASE("sd_notify: no watchdog pings when WATCHDOG_PID names another process",
          "[e2e][systemd]") {
    notify_socket sock;
    http_daemon d(config_yaml,
                  {"NOTIFY_SOCKET=" + sock.path(), "WATCHDOG_USEC=200000", "WATCHDOG_PID=1"});
    REQUIRE(d.port() != 0);
    REQUIRE(sock.receive_until([&] { return sock.count_containing("READY=1") >= 1; }, 10s));
    sock.receive_until([] { return false; }, 500ms);
    CHECK(sock.count_containing("WATCHDOG=1") == 0);
}

TEST_CASE("SIGHUP applies a good config's job changes and keeps the running one on errors",
          "[e2e][systemd][reload]") {
    notify_socket sock;
    http_daemon d(config_yaml, {"NOTIFY_SOCKET=" + sock.path()});
    REQUIRE(d.port() != 0);
    REQUIRE(sock.receive_until([&] { return sock.count_containing("READY=1") >= 1; }, 10s));
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/added/runs", "{}").status == 404);

    // A good config adds a job and changes another: RELOADING=1 with MONOTONIC_USEC, then
    // READY=1 again, and the API serves the new jobs at once.
    std::ofstream(d.dir() / "sluice.yaml", std::ios::trunc)
        << "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"sqlite://var/e2e.db\"\n"
        << "shutdown_grace: 5s\njobs:\n  hello:\n    schedule: \"45 3 * * *\"\n"
        << "    tasks: {greet: {type: noop}}\n  added:\n    tasks: {t: {type: noop}}\n";
    REQUIRE(::kill(d.pid(), SIGHUP) == 0);
    REQUIRE(sock.receive_until([&] { return sock.count_containing("READY=1") >= 2; }, 10s));
    CHECK(sock.count_containing("RELOADING=1") == 1);
    CHECK(sock.count_containing("MONOTONIC_USEC=") == 1);
    REQUIRE(wait_for_log(d, "reload: applied (2 job(s): 1 added, 1 changed, 0 removed)"));
    CHECK_THAT(d.log(), Contains("changes to shutdown_grace take effect after a restart"));
    const auto detail = http_call(d.port(), "GET", "/api/v1/jobs/hello");
    CHECK(detail.status == 200);
    CHECK_THAT(detail.body, Contains("45 3 * * *"));
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/added/runs", "{}").status == 201);

    // A broken config: every error is logged with file:line:col, the running config stays.
    std::ofstream(d.dir() / "sluice.yaml", std::ios::trunc)
        << config_yaml << "    bogus_key: 1\n  other:\n    schedule: \"61 * * * *\"\n"
        << "    tasks: {t: {type: noop}}\n";
    REQUIRE(::kill(d.pid(), SIGHUP) == 0);
    REQUIRE(sock.receive_until([&] { return sock.count_containing("READY=1") >= 3; }, 10s));
    REQUIRE(wait_for_log(d, "keeping the running config"));
    const auto log = d.log();
    CHECK_THAT(log, Contains("sluice.yaml:"));
    CHECK_THAT(log, Contains("bogus_key"));
    CHECK_THAT(log, Contains("61"));
    CHECK_THAT(log, Contains("reload: 2 error(s)"));
    CHECK(http_call(d.port(), "GET", "/livez").status == 200);
    CHECK(http_call(d.port(), "GET", "/readyz").status == 200);
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/added").status == 200);

    // Removing a job: it is gone from the API; its finished run stays readable.
    std::ofstream(d.dir() / "sluice.yaml", std::ios::trunc) << config_yaml;
    REQUIRE(::kill(d.pid(), SIGHUP) == 0);
    REQUIRE(sock.receive_until([&] { return sock.count_containing("READY=1") >= 4; }, 10s));
    REQUIRE(wait_for_log(d, "0 added, 1 changed, 1 removed"));
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/added").status == 404);
    CHECK(http_call(d.port(), "POST", "/api/v1/jobs/added/runs", "{}").status == 404);
    CHECK(d.stop() == 0);
}

// ExecReload runs `sluice reload`: it returns only once the daemon applied or rejected the file.
TEST_CASE("sluice reload validates, signals and waits for the daemon's outcome",
          "[e2e][systemd][reload]") {
    http_daemon d(config_yaml);
    REQUIRE(d.port() != 0);
    const std::string file = (d.dir() / "sluice.yaml").string();
    const std::string server = "http://127.0.0.1:" + std::to_string(d.port());
    auto reload = [&](const std::vector<std::string>& env = {}) {
        return run_sluice({"reload", "-c", file, "--pid", std::to_string(d.pid()), "--server",
                           server, "--timeout", "30"},
                          env);
    };
    auto reloads = [&] {
        const auto j = nlohmann::json::parse(http_call(d.port(), "GET", "/livez").body);
        return j.at("config");
    };
    CHECK(reloads()["reloads"] == 0);
    CHECK(reloads()["last_reload"].is_null());

    // Applied: the new job is served as soon as the command returns, without polling.
    std::ofstream(file, std::ios::trunc)
        << config_yaml << "  added:\n    tasks: {t: {type: noop}}\n";
    auto applied = reload();
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK_THAT(applied.out, Contains("reload applied"));
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/added").status == 200);
    CHECK(reloads()["reloads"] == 1);
    CHECK(reloads()["last_reload"] == "applied");

    // A broken file: its errors are printed with file:line:col and no signal is sent.
    std::ofstream(file, std::ios::trunc) << config_yaml << "    bogus_key: 1\n";
    auto broken = reload();
    CHECK(broken.exit_code == 1);
    CHECK_THAT(broken.err, Contains("sluice.yaml:"));
    CHECK_THAT(broken.err, Contains("bogus_key"));
    CHECK_THAT(broken.err, Contains("reload not sent"));
    CHECK(reloads()["reloads"] == 1);

    // Valid where the command runs, rejected where the daemon runs (a variable only the command
    // has): exit 1, and the daemon keeps its running config.
    std::ofstream(file, std::ios::trunc)
        << config_yaml
        << "connections:\n  wh:\n    type: postgres\n    url: "
           "\"postgresql://etl:${env:RELOAD_TEST_ONLY_HERE}@db/x\"\n";
    auto rejected = reload({"RELOAD_TEST_ONLY_HERE=pw"});
    INFO(rejected.out << rejected.err);
    CHECK(rejected.exit_code == 1);
    CHECK_THAT(rejected.err, Contains("reload rejected"));
    CHECK(reloads()["reloads"] == 2);
    CHECK(reloads()["last_reload"] == "rejected");
    CHECK_THAT(d.log(), Contains("RELOAD_TEST_ONLY_HERE"));
    CHECK(http_call(d.port(), "GET", "/api/v1/jobs/added").status == 200);

    CHECK(d.stop() == 0);
}
