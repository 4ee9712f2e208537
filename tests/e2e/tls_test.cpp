// HTTPS (docs/operations.md#tls): the real daemon with certificates made by openssl, curl and
// the sluice CLI as clients; tokens refused over plain HTTP on a network address.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "http_api_support.hpp"
#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"
#include "scratch_dir.hpp"

using Catch::Matchers::Contains;
using namespace sluice::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A self-signed P-256 certificate for `name` (not for 127.0.0.1: the clients below reach the
// daemon by that name, or pin the certificate).
void make_certificate(const fs::path& cert, const fs::path& key, const std::string& name) {
    const auto r =
        run_process("/usr/bin/openssl",
                    {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext",
                     "subjectAltName=DNS:" + name, "-keyout", key.string(), "-out", cert.string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

// curl to https://sluice.test:PORT/PATH trusting `ca` only; out = body, then the status line.
process_result curl(std::uint16_t port, const std::string& path, const fs::path& ca) {
    const std::string p = std::to_string(port);
    return run_process("/usr/bin/curl", {"-sS", "--max-time", "10", "--cacert", ca.string(),
                                         "--resolve", "sluice.test:" + p + ":127.0.0.1", "-w",
                                         "\n%{http_code}", "https://sluice.test:" + p + path});
}

std::string tls_server(const fs::path& cert, const fs::path& key) {
    return "  tls: {cert: \"" + cert.string() + "\", key: \"" + key.string() +
           "\"}\n  allowed_hosts: [sluice.test]\n";
}

bool wait_for_log(const http_daemon& d, const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (d.log().find(text) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// A port nothing listens on right now (the CLI takes the daemon's address from its config, so
// the config needs a fixed port).
std::uint16_t free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(s);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("https: the API over TLS, nothing for plain HTTP, a reload rotates the certificate",
          "[e2e][http][tls]") {
    scratch_dir certs("sluice-tls");
    const fs::path cert = certs.path / "server.pem";
    const fs::path key = certs.path / "server.key";
    make_certificate(cert, key, "sluice.test");
    fs::copy_file(cert, certs.path / "first.pem");

    http_daemon d(sqlite_config(tls_server(cert, key)), {}, /*https=*/true);
    REQUIRE(d.port() != 0);
    CHECK_THAT(d.log(), Contains("(HTTPS)"));
    auto jobs = curl(d.port(), "/api/v1/jobs", cert);
    INFO(jobs.err);
    CHECK(jobs.exit_code == 0);
    CHECK_THAT(jobs.out, Contains("\"hello\"") && Contains("\n200"));
    // Plain HTTP on the HTTPS port is not answered (the handshake fails, the connection closes).
    CHECK(http_call(d.port(), "GET", "/readyz").status == 0);

    // Rotation: new files at the same paths, SIGHUP; new connections get the new certificate.
    const fs::path next_cert = certs.path / "next.pem";
    const fs::path next_key = certs.path / "next.key";
    make_certificate(next_cert, next_key, "sluice.test");
    fs::copy_file(next_cert, cert, fs::copy_options::overwrite_existing);
    fs::copy_file(next_key, key, fs::copy_options::overwrite_existing);
    REQUIRE(::kill(d.pid(), SIGHUP) == 0);
    REQUIRE(wait_for_log(d, "TLS certificate " + cert.string() + " loaded"));
    CHECK_THAT(curl(d.port(), "/readyz", next_cert).out, Contains("\n200"));
    const auto old = curl(d.port(), "/readyz", certs.path / "first.pem");
    CHECK(old.exit_code == 60);  // curl: peer certificate cannot be authenticated

    // A broken key refuses the reload and keeps the certificate in use.
    std::ofstream(key, std::ios::trunc) << "not a key\n";
    REQUIRE(::kill(d.pid(), SIGHUP) == 0);
    REQUIRE(wait_for_log(d, "keeping the running config and certificate"));
    CHECK_THAT(d.log(), Contains("server.tls.key: cannot use " + key.string()));
    CHECK_THAT(curl(d.port(), "/readyz", next_cert).out, Contains("\n200"));
}

TEST_CASE("https: the CLI trusts the certificate its config names, a URL the system's CAs",
          "[e2e][http][tls][cli]") {
    scratch_dir certs("sluice-tls");
    const fs::path cert = certs.path / "server.pem";
    const fs::path key = certs.path / "server.key";
    make_certificate(cert, key, "sluice.test");
    const std::uint16_t port = free_port();
    http_daemon d("server:\n  listen: \"127.0.0.1:" + std::to_string(port) + "\"\n" +
                      tls_server(cert, key) +
                      "store:\n  url: \"sqlite://var/e2e.db\"\nshutdown_grace: 1s\n" + jobs_yaml,
                  {}, /*https=*/true);
    REQUIRE(d.port() == port);
    const auto pinned = run_sluice({"trigger", "hello", "-c", (d.dir() / "sluice.yaml").string()});
    INFO(pinned.err);
    CHECK(pinned.exit_code == 0);
    // By URL the certificate must chain to a CA the system trusts: this self-signed one does not.
    const auto by_url =
        run_sluice({"runs", "list", "--server", "https://127.0.0.1:" + std::to_string(port)});
    CHECK(by_url.exit_code != 0);
    CHECK_THAT(by_url.err, Contains("certificate not accepted"));
}

TEST_CASE("https: a key that is not the certificate's stops the start with both paths named",
          "[e2e][http][tls]") {
    scratch_dir certs("sluice-tls");
    make_certificate(certs.path / "a.pem", certs.path / "a.key", "sluice.test");
    make_certificate(certs.path / "b.pem", certs.path / "b.key", "sluice.test");
    http_daemon d(sqlite_config(tls_server(certs.path / "a.pem", certs.path / "b.key")), {},
                  /*https=*/true);
    CHECK(d.port() == 0);
    CHECK_THAT(d.log(),
               Contains("does not belong to the certificate " + (certs.path / "a.pem").string()));
}

TEST_CASE("tokens over plain HTTP on a network address need allow_plaintext_tokens",
          "[e2e][http][tls][auth]") {
    auto r = run_sluice({"token", "new", "ops", "--role", "admin"});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() >= 3);
    const std::string body = "  tokens:\n  " + out.back() +
                             "\nstore:\n  url: \"sqlite://var/e2e.db\"\nshutdown_grace: 1s\n" +
                             jobs_yaml;
    {
        http_daemon refused("server:\n  listen: \"0.0.0.0:0\"\n" + body);
        CHECK(refused.port() == 0);
        CHECK(refused.stop() == 1);
        CHECK_THAT(refused.log(), Contains("over plain HTTP with server.tokens") &&
                                      Contains("allow_plaintext_tokens"));
    }
    http_daemon allowed("server:\n  listen: \"0.0.0.0:0\"\n  allow_plaintext_tokens: true\n" +
                        body);
    CHECK(allowed.port() != 0);
}
