#include "private_postgres.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "private_server.hpp"
#include "process.hpp"

namespace sluice::test {

namespace {

// The user the server runs as when the test runs as root (PostgreSQL refuses to run as root),
// as in scripts/test-servers.sh.
constexpr const char* service_user = "postgres";
// How long pg_ctl waits for a start or a stop before it gives up.
constexpr const char* pg_ctl_wait_seconds = "60";
// Ports tried when the first free-looking one is taken by the time the server binds it.
constexpr int start_attempts = 8;

// Like pg_bin() in scripts/test-servers.sh: $SLUICE_PG_BIN, else the newest installed version.
std::filesystem::path pg_bin() {
    if (const char* env = std::getenv("SLUICE_PG_BIN"); env != nullptr && *env != '\0') {
        return env;
    }
    std::filesystem::path best;
    int best_version = -1;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
            continue;
        }
        const auto bin = entry.path() / "bin";
        if (::access((bin / "initdb").c_str(), X_OK) == 0 && std::stoi(name) > best_version) {
            best_version = std::stoi(name);
            best = bin;
        }
    }
    if (best.empty()) {
        throw std::runtime_error(
            "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install "
            "postgresql, or set SLUICE_PG_BIN)");
    }
    return best;
}

// Runs a PostgreSQL program as the service user when we are root.
process_result as_service_user(const std::filesystem::path& program,
                               const std::vector<std::string>& args) {
    return run_as(service_user, program.string(), args);
}

// The postmaster's pid: the first line of postmaster.pid.
pid_t postmaster_pid(const std::filesystem::path& data) {
    std::ifstream pid_file(data / "postmaster.pid");
    pid_t pid = 0;
    if (!(pid_file >> pid) || pid <= 0) {
        throw std::runtime_error("no postmaster.pid in " + data.string());
    }
    return pid;
}

// The children of `parent`, from /proc.
std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
            continue;
        }
        // /proc/PID/stat: "PID (COMM) STATE PPID ..."; COMM may hold spaces and parentheses.
        std::ifstream stat(entry.path() / "stat");
        std::string text;
        std::getline(stat, text);
        const auto close = text.rfind(')');
        if (close == std::string::npos) {
            continue;
        }
        std::istringstream rest(text.substr(close + 1));
        std::string state;
        pid_t ppid = 0;
        if (rest >> state >> ppid && ppid == parent) {
            out.push_back(static_cast<pid_t>(std::stol(name)));
        }
    }
    return out;
}

}  // namespace

private_postgres::private_postgres() : bin_(pg_bin()) {
    ensure_system_user(service_user);
    // The server (another user when we are root) creates its data dir, socket and log here.
    dir_ = make_server_dir("sluice-e2e-pg", service_user);
    try {
        // --no-sync: flushing the new cluster to disk costs seconds and protects nothing here.
        const auto init = as_service_user(
            bin_ / "initdb", {"-D", (dir_ / "data").string(), "-U", "sluice", "--auth=trust",
                              "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"});
        if (init.exit_code != 0) {
            throw std::runtime_error("initdb failed: " + init.out + init.err);
        }
        for (int attempt = 0; attempt < start_attempts && !running_; ++attempt) {
            port_ = free_loopback_port();
            running_ = try_start();
        }
        if (!running_) {
            throw std::runtime_error("PostgreSQL did not start: " + log());
        }
        const auto made = as_service_user(
            bin_ / "createdb",
            {"-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "sluice", "sluice_test"});
        if (made.exit_code != 0) {
            throw std::runtime_error("createdb failed: " + made.out + made.err);
        }
    } catch (...) {
        // The destructor does not run for a half-built object: stop and remove here, then let
        // the original error through.
        if (running_) {
            (void)as_service_user(bin_ / "pg_ctl",
                                  {"-D", (dir_ / "data").string(), "-m", "immediate", "-w", "-t",
                                   pg_ctl_wait_seconds, "stop"});
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw;
    }
}

private_postgres::~private_postgres() {
    thaw();
    try {
        if (running_) {
            const auto r =
                as_service_user(bin_ / "pg_ctl", {"-D", (dir_ / "data").string(), "-m", "immediate",
                                                  "-w", "-t", pg_ctl_wait_seconds, "stop"});
            if (r.exit_code != 0) {
                std::cerr << "private_postgres: pg_ctl stop failed: " << r.err << '\n';
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "private_postgres: cannot stop the server: " << e.what() << '\n';
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string private_postgres::query(const std::string& sql) const {
    const auto r = run_process((bin_ / "psql").string(),
                               {"-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "sluice",
                                "-d", "sluice_test", "-X", "-A", "-t", "-c", sql});
    if (r.exit_code != 0) {
        throw std::runtime_error("psql -c '" + sql + "' failed: " + r.err);
    }
    return r.out;
}

std::string private_postgres::url() const {
    return "postgresql://sluice@127.0.0.1:" + std::to_string(port_) + "/sluice_test";
}

bool private_postgres::try_start() {
    // fsync is off: the data is thrown away, and the OS keeps what an immediate stop left
    // unflushed, so a restart still recovers every committed transaction.
    const auto r = as_service_user(
        bin_ / "pg_ctl", {"-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(),
                          "-w", "-t", pg_ctl_wait_seconds, "start", "-o",
                          "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " +
                              dir_.string() + " -c fsync=off -c max_connections=100"});
    return r.exit_code == 0;
}

void private_postgres::stop(const std::string& mode) {
    const auto r = as_service_user(bin_ / "pg_ctl", {"-D", (dir_ / "data").string(), "-m", mode,
                                                     "-w", "-t", pg_ctl_wait_seconds, "stop"});
    if (r.exit_code != 0) {
        throw std::runtime_error("pg_ctl stop -m " + mode + " failed: " + r.out + r.err);
    }
    running_ = false;
}

void private_postgres::start() {
    // The port was ours a moment ago; a process that took it meanwhile may let go again.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!running_ && std::chrono::steady_clock::now() < until) {
        running_ = try_start();
        if (!running_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }
    if (!running_) {
        throw std::runtime_error("PostgreSQL did not start again on port " + std::to_string(port_) +
                                 ": " + log());
    }
}

void private_postgres::freeze() {
    // The postmaster first: stopped, it cannot start a backend the scan below would miss.
    const pid_t postmaster = postmaster_pid(dir_ / "data");
    ::kill(postmaster, SIGSTOP);
    frozen_ = {postmaster};
    for (const pid_t child : children_of(postmaster)) {
        ::kill(child, SIGSTOP);
        frozen_.push_back(child);
    }
}

void private_postgres::thaw() {
    for (const pid_t pid : frozen_) {
        ::kill(pid, SIGCONT);
    }
    frozen_.clear();
}

std::string private_postgres::log() const {
    std::ifstream in(dir_ / "server.log", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace sluice::test
