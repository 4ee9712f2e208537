#pragma once

// What the sink outage tests share (sink_outage_test.cpp on a PostgreSQL sink,
// sink_outage_mariadb_test.cpp on a MariaDB one): the source table on the shared PostgreSQL, the
// daemon's configuration, the run's progress over the HTTP API and the store's mark.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::test::outage {

// 30 batches of 1,000 rows 100 ms apart: at least 3 s of copying, so an outage at no pinned
// moment still lands while most of the table is to come even on a loaded machine.
inline constexpr int row_count = 30000;
inline constexpr int batch_rows = 1000;
// The sink is stopped once this many rows committed (three batches).
inline constexpr int rows_before_outage = 3 * batch_rows;
// At least this long down: long enough for the attempt in flight and a few reconnects to fail.
inline constexpr std::chrono::seconds outage{3};
// The retry policy spans about a minute of outage (0.3 s, 0.45 s, ... capped at 2 s, 40 tries).
inline const std::string retries = "{max_attempts: 40, delay: 300ms, backoff: 1.5, max_delay: 2s}";

// The first row of `sql` on the server at `url`, each cell as text ("NULL" for SQL NULL), or
// nullopt when the server cannot be reached; any other failure fails the test.
std::optional<std::vector<std::string>> pg_try_row(const std::string& url, const std::string& sql);
std::vector<std::string> pg_row(const std::string& url, const std::string& sql);
void pg_exec(const std::string& url, const std::string& sql);

// The shared PostgreSQL of scripts/test-servers.sh (SLUICE_TEST_PG_URL).
std::string source_url();

// The source table, unique to this process and dropped at the end.
class source_table {
public:
    explicit source_table(std::string url);
    ~source_table();
    source_table(const source_table&) = delete;
    source_table& operator=(const source_table&) = delete;
    const std::string& name() const { return name_; }

    static constexpr const char* columns =
        "(id bigint PRIMARY KEY, a integer, b text, c numeric(12,2), d timestamp, e integer)";

private:
    std::string url_;
    std::string name_;
};

// count, distinct keys and an md5 over every column of every row in key order.
std::vector<std::string> checksum(const std::string& url, const std::string& table);

// `task_keys`: more keys of the copy task, each line indented by 8.
std::string daemon_config(const std::string& source, const std::string& sink,
                          const std::string& source_table, const std::string& sink_table,
                          const std::string& connect_timeout = "5s",
                          const std::string& task_keys = "",
                          const std::string& sink_type = "postgres");

std::int64_t trigger(std::uint16_t port);
nlohmann::json get_run(std::uint16_t port, std::int64_t run);
nlohmann::json wait_finished(std::uint16_t port, std::int64_t run, std::chrono::seconds limit);

// The task.state transitions of `run` stored as events.
std::vector<nlohmann::json> task_transitions(std::uint16_t port, std::int64_t run);

// The value stored for `key` in a SQLite database (the daemon's store), or "" when none.
std::string store_checkpoint(const std::filesystem::path& db);

}  // namespace sluice::test::outage
