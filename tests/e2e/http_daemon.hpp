#pragma once

// Runs `sluice serve` in the background on port 0 in a temporary directory and stops it with
// SIGTERM; the bound port comes from --port-file.

#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace sluice::test {

class http_daemon {
public:
    // Writes `config_yaml` to DIR/sluice.yaml, starts the daemon on it and waits until /readyz
    // says ready (bounded). When the daemon exits before it listens, port() is 0 and log() says
    // why.
    // `extra_env` ("NAME=VALUE") is added to the daemon's environment (NOTIFY_SOCKET, ...).
    // `https`: the config serves TLS; readiness is then asked with curl (any certificate).
    explicit http_daemon(const std::string& config_yaml,
                         const std::vector<std::string>& extra_env = {}, bool https = false);
    ~http_daemon();
    http_daemon(const http_daemon&) = delete;
    http_daemon& operator=(const http_daemon&) = delete;

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::filesystem::path& dir() const { return dir_; }
    // The daemon's output (stdout and stderr) so far.
    std::string log() const;
    // SIGTERM and wait; returns the exit code.
    int stop();

private:
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    int exit_code_ = -1;
};

}  // namespace sluice::test
