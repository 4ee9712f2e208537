#pragma once

// A MariaDB server owned by one test, like private_postgres: set up as scripts/test-servers.sh
// does (mariadb-install-db and mariadbd in a temp dir, a loopback port, the socket in the temp
// dir, database `sluice_test` and user `sluice` with a password; as root the server runs as
// the `mysql` user), but with InnoDB's log written at each commit
// (innodb_flush_log_at_trx_commit=2) so a killed server keeps every committed transaction.
// It can be killed and started again on the same port and data directory, or frozen. The
// destructor kills it and removes the temp dir, also after a failure.

#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>

namespace sluice::test {

class private_mariadb {
public:
    // Installs, starts and creates the database and user; throws std::runtime_error with the
    // server's log on failure.
    private_mariadb();
    ~private_mariadb();
    private_mariadb(const private_mariadb&) = delete;
    private_mariadb& operator=(const private_mariadb&) = delete;

    // mysql://sluice:PASSWORD@127.0.0.1:PORT/sluice_test
    std::string url() const;
    // Runs `sql` as root on the socket (mariadb client, batch mode, no column names) in
    // sluice_test; returns its output; throws when the client fails.
    std::string query(const std::string& sql) const;

    // SIGKILL, as in a crash; waits until the process is gone.
    void kill();
    // Starts the killed server again on the same port and data dir (InnoDB recovery included)
    // and waits until it answers; throws when it does not within 60 s.
    void start();
    // SIGSTOP / SIGCONT of the server process.
    void freeze();
    void thaw();
    std::string log() const;

private:
    bool try_start();
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool frozen_ = false;
};

}  // namespace sluice::test
