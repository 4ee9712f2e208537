#pragma once

// A PostgreSQL server owned by one test, for faults the shared servers of
// scripts/test-servers.sh must not suffer (other tests use those): stopped in the middle of a
// run and started again on the same port and data directory, or frozen. Set up as the script
// does: initdb and pg_ctl from the newest /usr/lib/postgresql/*/bin (or $SLUICE_PG_BIN) in a
// temp dir, a loopback port, the unix socket in the temp dir, trust auth for user `sluice`,
// database `sluice_test`; as root the server runs as the unprivileged `postgres` user (created
// when missing). The destructor stops the server and removes the temp dir, also after a failure.

#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace sluice::test {

class private_postgres {
public:
    // initdb, start and createdb; throws std::runtime_error with the server's log on failure.
    private_postgres();
    ~private_postgres();
    private_postgres(const private_postgres&) = delete;
    private_postgres& operator=(const private_postgres&) = delete;

    // postgresql://sluice@127.0.0.1:PORT/sluice_test
    std::string url() const;
    std::uint16_t port() const { return port_; }
    // Runs `sql` with psql (unaligned, tuples only) and returns its output; throws on failure.
    std::string query(const std::string& sql) const;

    // pg_ctl stop with `mode`: "immediate" (backends die at once, no shutdown checkpoint, as in
    // a crash) or "fast" (sessions get "terminating connection due to administrator command").
    // Waits until the server is down; throws when pg_ctl fails.
    void stop(const std::string& mode);
    // Starts the stopped server again on the same port and data directory (crash recovery
    // included) and waits until it accepts connections; throws when it does not within 60 s.
    void start();
    // SIGSTOP to the server and every backend: connections stay open and nothing answers, as
    // when a server hangs or its host stops responding. thaw() (also run by the destructor)
    // sends SIGCONT to the same processes.
    void freeze();
    void thaw();
    // The server's log so far (for failure messages).
    std::string log() const;

private:
    bool try_start();
    std::vector<pid_t> frozen_;
    std::filesystem::path dir_;
    std::filesystem::path bin_;
    std::uint16_t port_ = 0;
    bool running_ = false;
};

}  // namespace sluice::test
