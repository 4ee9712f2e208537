#pragma once

// Internal to the MySQL / MariaDB connector (mysql_link.cpp, mysql_source.cpp,
// mysql_sink.cpp): the connection, type mapping and quoting they share.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mysql.h>

#include "config/spec.hpp"
#include "connectors/bounded_cancel.hpp"
#include "connectors/column_type.hpp"
#include "connectors/connection_url.hpp"
#include "connectors/row_batch.hpp"
#include "connectors/select_statement.hpp"
#include "connectors/sql_errors.hpp"
#include "connectors/text_codec.hpp"
#include "core/redact.hpp"

namespace sluice::connectors::mysql_detail {

// The largest INSERT statement we build; the server's max_allowed_packet lowers it. Multi-row
// INSERT is the bulk path (not LOAD DATA LOCAL INFILE): it also serves upserts through ON
// DUPLICATE KEY UPDATE, and needs no local_infile on either side (often disabled for security).
constexpr std::size_t max_statement_bytes = 8 << 20;

constexpr unsigned int binary_charset = 63;

// mysql_library_init is not thread-safe; mysql_init would call it lazily from any thread.
void init_library_once();
// A new connection (utf8mb4, the connector's whole-second connect timeout); a failure is
// classified by its error number and never shows the password ("cannot connect to MySQL at
// SHOWN_URL: error N: ...").
core::result<MYSQL*> connect_mysql(const connection_url& url, core::duration timeout,
                                   const std::string& shown_url);
// The portable column of a result field (MariaDB's JSON through its format metadata).
column column_of(const MYSQL_FIELD& f);
// The MySQL declaration of a portable column (key columns get bounded VARCHAR/VARBINARY).
std::string mysql_type_of(const column& c, bool key);

// One MariaDB Connector/C connection in UTC (time_zone +00:00), with the server's packet limit.
// One statement at a time; cancel() (KILL QUERY from a second connection) is thread-safe.
class mysql_link {
public:
    ~mysql_link() {
        if (conn_ != nullptr) {
            mysql_close(conn_);
        }
    }

    static core::result<std::unique_ptr<mysql_link>> open(const config::connection_spec& spec) {
        auto parsed = parse_connection_url(spec.url);
        if (!parsed) {
            return parsed.error();
        }
        auto link = std::unique_ptr<mysql_link>(new mysql_link());
        link->url_ = *parsed;
        link->name_ = spec.name;
        link->shown_url_ = core::redact_url(spec.url);
        link->timeout_ = spec.connect_timeout;
        auto conn = connect(link->url_, link->name_, link->shown_url_, spec.connect_timeout);
        if (!conn) {
            return conn.error();
        }
        link->conn_ = *conn;
        link->thread_id_ = mysql_thread_id(link->conn_);
        link->bounded_ = std::make_unique<bounded_cancel>(
            static_cast<int>(mysql_get_socket(link->conn_)),
            std::chrono::seconds(std::max<long long>(
                1,
                std::chrono::duration_cast<std::chrono::seconds>(link->cancel_timeout()).count())));
        auto set = link->exec("SET time_zone = '+00:00'");
        if (!set) {
            return set.error();
        }
        MYSQL_RES* res = nullptr;
        if (mysql_query(link->conn_, "SELECT @@max_allowed_packet") == 0 &&
            (res = mysql_store_result(link->conn_)) != nullptr) {
            if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) {
                link->max_packet_ = std::min<std::size_t>(
                    max_statement_bytes,
                    std::stoull(row[0]) > 4096 ? std::stoull(row[0]) - 4096 : std::stoull(row[0]));
            }
            mysql_free_result(res);
        }
        return link;
    }

    MYSQL* conn() { return conn_; }
    const std::string& name() const { return name_; }
    std::size_t max_packet() const { return max_packet_; }

    core::error failure(const std::string& what) const {
        const unsigned int code = mysql_errno(conn_);
        return core::error{classify_mysql_errno(code),
                           "connection '" + name_ + "': " + what + ": MySQL error " +
                               std::to_string(code) + ": " +
                               scrub_secret(mysql_error(conn_), url_.password)};
    }

    core::result<void> exec(std::string_view sql) {
        if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
            return failure("statement failed");
        }
        if (MYSQL_RES* res = mysql_store_result(conn_)) {
            mysql_free_result(res);
        } else if (mysql_field_count(conn_) != 0) {
            return failure("statement failed");
        }
        return {};
    }

    // The first column of the first row, or nullopt.
    core::result<std::optional<std::string>> scalar(const std::string& sql) {
        if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
            return failure("query failed");
        }
        MYSQL_RES* res = mysql_store_result(conn_);
        if (res == nullptr) {
            return failure("query failed");
        }
        std::optional<std::string> out;
        if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) {
            out = std::string(row[0], mysql_fetch_lengths(res)[0]);
        }
        mysql_free_result(res);
        return out;
    }

    std::string literal(std::string_view v) {
        std::string out(v.size() * 2 + 3, '\0');
        out[0] = '\'';
        const auto n = mysql_real_escape_string(conn_, out.data() + 1, v.data(),
                                                static_cast<unsigned long>(v.size()));
        out.resize(n + 1);
        out += '\'';
        return out;
    }

    sql_quoting quoting() {
        return {[](std::string_view n) { return quote_dotted(n, '`', '`'); },
                [this](std::string_view v) { return literal(v); },
                {}};
    }

    // KILL QUERY from a second connection (thread-safe); a server that does not answer it within
    // the cancel timeout gets the connection shut down (bounded_cancel).
    void cancel() {
        if (bounded_ == nullptr) {
            return;
        }
        // The request may outlive the link: it works on copies.
        (*bounded_)([url = url_, name = name_, shown = shown_url_, timeout = cancel_timeout(),
                     thread = thread_id_] {
            auto killer = connect(url, name, shown, timeout);
            if (!killer) {
                return;  // unreachable: the statement's own error says what happened
            }
            const std::string kill = "KILL QUERY " + std::to_string(thread);
            mysql_real_query(*killer, kill.data(), kill.size());
            mysql_close(*killer);
        });
    }

private:
    mysql_link() = default;

    // The cancel path's own bound: short, so a dead server cannot hold it long.
    core::duration cancel_timeout() const {
        return std::min<core::duration>(timeout_, std::chrono::seconds(5));
    }

    // Static: the cancel request calls it from its own thread, on copies.
    static core::result<MYSQL*> connect(const connection_url& url, const std::string& name,
                                        const std::string& shown_url, core::duration timeout) {
        auto conn = connect_mysql(url, timeout, shown_url);
        if (!conn) {
            return core::error{conn.error().cls,
                               "connection '" + name + "': " + conn.error().message};
        }
        return *conn;
    }

    MYSQL* conn_ = nullptr;
    connection_url url_;
    std::string name_;
    std::string shown_url_;
    core::duration timeout_{};
    unsigned long thread_id_ = 0;
    std::size_t max_packet_ = 1 << 20;
    std::unique_ptr<bounded_cancel> bounded_;
};

}  // namespace sluice::connectors::mysql_detail
