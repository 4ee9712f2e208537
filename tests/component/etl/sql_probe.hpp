#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// Reads rows straight through each engine's client library, to check what a sql task did.
namespace sluice::test {

using row = std::vector<std::optional<std::string>>;

std::vector<row> sqlite_rows(const std::filesystem::path& db, const std::string& query);
std::vector<row> postgres_rows(const std::string& url, const std::string& query);
std::vector<row> mysql_rows(const std::string& url, const std::string& query);

// A MySQL connection holding an open transaction that ran `statement` (row locks), until
// destroyed.
class mysql_lock {
public:
    mysql_lock(const std::string& url, const std::string& statement);
    ~mysql_lock();
    mysql_lock(const mysql_lock&) = delete;
    mysql_lock& operator=(const mysql_lock&) = delete;

private:
    void* conn_ = nullptr;
};

// A table name no other test process uses.
std::string unique_table(const std::string& prefix);

}  // namespace sluice::test
