#include "tests/component/etl/sql_probe.hpp"

#include <atomic>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <mysql.h>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <sqlite3.h>

#include "connectors/connection_url.hpp"

namespace sluice::test {

std::vector<row> sqlite_rows(const std::filesystem::path& db, const std::string& query) {
    sqlite3* conn = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn, query.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        const std::string message = sqlite3_errmsg(conn);
        sqlite3_close(conn);
        FAIL("sqlite probe: " << message);
    }
    std::vector<row> rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        row r;
        for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
            const auto* text = sqlite3_column_text(stmt, i);
            r.push_back(text == nullptr
                            ? std::nullopt
                            : std::optional<std::string>(reinterpret_cast<const char*>(text)));
        }
        rows.push_back(std::move(r));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return rows;
}

std::vector<row> postgres_rows(const std::string& url, const std::string& query) {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    std::vector<row> rows;
    for (const auto& r : tx.exec(query)) {
        row out;
        for (const auto& field : r) {
            out.push_back(field.is_null() ? std::nullopt
                                          : std::optional<std::string>(field.c_str()));
        }
        rows.push_back(std::move(out));
    }
    return rows;
}

std::vector<row> mysql_rows(const std::string& url, const std::string& query) {
    auto u = connectors::parse_connection_url(url);
    REQUIRE(u.has_value());
    MYSQL* conn = mysql_init(nullptr);
    REQUIRE(conn != nullptr);
    if (mysql_real_connect(conn, u->host.c_str(), u->user.c_str(),
                           u->password ? u->password->c_str() : nullptr, u->database.c_str(),
                           static_cast<unsigned>(u->port.value_or(3306)), nullptr, 0) == nullptr ||
        mysql_real_query(conn, query.data(), query.size()) != 0) {
        const std::string message = mysql_error(conn);
        mysql_close(conn);
        FAIL("mysql probe: " << message);
    }
    std::vector<row> rows;
    if (MYSQL_RES* res = mysql_store_result(conn)) {
        const unsigned n = mysql_num_fields(res);
        while (MYSQL_ROW r = mysql_fetch_row(res)) {
            row out;
            for (unsigned i = 0; i < n; ++i) {
                out.push_back(r[i] == nullptr ? std::nullopt : std::optional<std::string>(r[i]));
            }
            rows.push_back(std::move(out));
        }
        mysql_free_result(res);
    }
    mysql_close(conn);
    return rows;
}

mysql_lock::mysql_lock(const std::string& url, const std::string& statement) {
    auto u = connectors::parse_connection_url(url);
    REQUIRE(u.has_value());
    MYSQL* conn = mysql_init(nullptr);
    REQUIRE(conn != nullptr);
    conn_ = conn;
    for (const std::string& q : {std::string("START TRANSACTION"), statement}) {
        if ((q == "START TRANSACTION" &&
             mysql_real_connect(conn, u->host.c_str(), u->user.c_str(),
                                u->password ? u->password->c_str() : nullptr, u->database.c_str(),
                                static_cast<unsigned>(u->port.value_or(3306)), nullptr,
                                0) == nullptr) ||
            mysql_real_query(conn, q.data(), q.size()) != 0) {
            FAIL("mysql lock: " << mysql_error(conn));
        }
        if (MYSQL_RES* res = mysql_store_result(conn)) {
            mysql_free_result(res);
        }
    }
}

mysql_lock::~mysql_lock() {
    mysql_close(static_cast<MYSQL*>(conn_));
}

std::string unique_table(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

}  // namespace sluice::test
