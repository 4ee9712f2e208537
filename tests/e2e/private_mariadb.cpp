#include "private_mariadb.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "private_server.hpp"
#include "process.hpp"

namespace sluice::test {

namespace {

// The user the server runs as when the test runs as root, as in scripts/test-servers.sh.
constexpr const char* service_user = "mysql";
constexpr const char* password = "sluice-test-pw";
// Ports tried when the first free-looking one is taken by the time the server binds it.
constexpr int start_attempts = 8;
// How long a start may take before it counts as failed.
constexpr auto start_budget = std::chrono::seconds(60);

}  // namespace

private_mariadb::private_mariadb() {
    ensure_system_user(service_user);
    dir_ = make_server_dir("sluice-e2e-mariadb", service_user);
    try {
        const auto installed = run_as(
            service_user,
            first_executable({"/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"}),
            {"--no-defaults", "--datadir=" + (dir_ / "data").string(),
             "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"});
        if (installed.exit_code != 0) {
            throw std::runtime_error("mariadb-install-db failed: " + installed.out + installed.err);
        }
        bool started = false;
        for (int attempt = 0; attempt < start_attempts && !started; ++attempt) {
            port_ = free_loopback_port();
            started = try_start();
        }
        if (!started) {
            throw std::runtime_error("MariaDB did not start: " + log());
        }
        query("CREATE DATABASE sluice_test; CREATE USER 'sluice'@'%' IDENTIFIED BY '" +
              std::string(password) + "'; GRANT ALL ON sluice_test.* TO 'sluice'@'%'");
    } catch (...) {
        // The destructor does not run for a half-built object.
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw;
    }
}

private_mariadb::~private_mariadb() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string private_mariadb::url() const {
    return "mysql://sluice:" + std::string(password) + "@127.0.0.1:" + std::to_string(port_) +
           "/sluice_test";
}

std::string private_mariadb::query(const std::string& sql) const {
    const auto r = run_process("/usr/bin/mariadb",
                               {"--no-defaults", "--socket=" + (dir_ / "mysqld.sock").string(),
                                "-uroot", "-N", "-B", "-e", sql});
    if (r.exit_code != 0) {
        throw std::runtime_error("mariadb -e '" + sql + "' failed: " + r.err);
    }
    return r.out;
}

bool private_mariadb::try_start() {
    // setpriv execs the server in place, so pid_ is the server's own.
    std::vector<std::string> args;
    std::string program = "/usr/sbin/mariadbd";
    if (running_as_root()) {
        args = {"--reuid=" + std::string(service_user), "--regid=" + std::string(service_user),
                "--init-groups", "--", program};
        program = first_executable({"/usr/bin/setpriv"});
    }
    const std::vector<std::string> server_args{"--no-defaults",
                                               "--datadir=" + (dir_ / "data").string(),
                                               "--port=" + std::to_string(port_),
                                               "--bind-address=127.0.0.1",
                                               "--socket=" + (dir_ / "mysqld.sock").string(),
                                               "--pid-file=" + (dir_ / "mysqld.pid").string(),
                                               "--log-error=" + (dir_ / "server.log").string(),
                                               "--skip-name-resolve",
                                               "--skip-log-bin",
                                               "--innodb-buffer-pool-size=32M",
                                               "--innodb-log-file-size=16M",
                                               "--innodb-flush-log-at-trx-commit=2",
                                               "--max-connections=100"};
    args.insert(args.end(), server_args.begin(), server_args.end());
    const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_ = spawn_process(program, args, {}, null_fd, null_fd);
    ::close(null_fd);
    const auto until = std::chrono::steady_clock::now() + start_budget;
    while (std::chrono::steady_clock::now() < until) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;  // exited: the port may be taken
            return false;
        }
        const auto ping = run_process(
            "/usr/bin/mariadb-admin",
            {"--no-defaults", "--socket=" + (dir_ / "mysqld.sock").string(), "-uroot", "ping"});
        if (ping.exit_code == 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return false;
}

void private_mariadb::kill() {
    thaw();
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
}

void private_mariadb::start() {
    const auto until = std::chrono::steady_clock::now() + start_budget;
    while (pid_ <= 0 && std::chrono::steady_clock::now() < until) {
        if (!try_start()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }
    if (pid_ <= 0) {
        throw std::runtime_error("MariaDB did not start again on port " + std::to_string(port_) +
                                 ": " + log());
    }
}

void private_mariadb::freeze() {
    if (pid_ > 0) {
        ::kill(pid_, SIGSTOP);
        frozen_ = true;
    }
}

void private_mariadb::thaw() {
    if (frozen_ && pid_ > 0) {
        ::kill(pid_, SIGCONT);
    }
    frozen_ = false;
}

std::string private_mariadb::log() const {
    std::ifstream in(dir_ / "server.log", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace sluice::test
