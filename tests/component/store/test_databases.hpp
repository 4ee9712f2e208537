#pragma once

// Fresh, empty databases for the conformance suite: a temp-dir SQLite file, or a new PostgreSQL
// database on the server named by SLUICE_TEST_PG_URL (started by scripts/test-servers.sh).
// Each test case gets its own; the destructor removes it.

#include <filesystem>
#include <memory>
#include <string>

#include "scheduler/run_store.hpp"

namespace sluice::test {

// Opens the URL and migrates; fails the test case on an error.
std::unique_ptr<scheduler::run_store> open_migrated(const std::string& url);

class sqlite_database {
public:
    static constexpr const char* engine = "sqlite";
    sqlite_database();
    ~sqlite_database();
    const std::string& url() const { return url_; }

private:
    std::filesystem::path dir_;
    std::string url_;
};

class postgres_database {
public:
    static constexpr const char* engine = "postgresql";
    // Fails the test loudly when SLUICE_TEST_PG_URL is unset: a skipped PostgreSQL suite would
    // pass without testing anything.
    postgres_database();
    ~postgres_database();
    const std::string& url() const { return url_; }
    // A URL for the server's maintenance connection (the database from SLUICE_TEST_PG_URL).
    const std::string& admin_url() const { return admin_url_; }
    const std::string& name() const { return name_; }

private:
    std::string admin_url_;
    std::string name_;
    std::string url_;
};

}  // namespace sluice::test
