#pragma once

// What the test-owned database servers (private_postgres, private_mariadb) share with
// scripts/test-servers.sh: servers refuse to run as root, so as root they run as an
// unprivileged system user (created when missing) in a temp dir that user owns.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "process.hpp"

namespace sluice::test {

bool running_as_root();

// The first of `candidates` that is executable; throws when none is.
std::string first_executable(const std::vector<std::string>& candidates);

// As root: creates the system user `name` when missing (no home, no login shell).
void ensure_system_user(const std::string& name);

// Runs `program args...` as `user` when we are root (runuser), as ourselves otherwise.
process_result run_as(const std::string& user, const std::string& program,
                      const std::vector<std::string>& args);

// A fresh temp dir named after `stem`, readable by all and owned by `user` when we are root.
std::filesystem::path make_server_dir(const std::string& stem, const std::string& user);

// A loopback port nothing listens on right now (the kernel's choice for port 0).
std::uint16_t free_loopback_port();

}  // namespace sluice::test
