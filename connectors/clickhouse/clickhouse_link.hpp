#pragma once

// Internal to the ClickHouse connector (clickhouse_link.cpp, clickhouse_source.cpp,
// clickhouse_sink.cpp): the HTTP connection, type mapping and quoting they share.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/spec.hpp"
#include "connectors/clickhouse/clickhouse_errors.hpp"
#include "connectors/column_type.hpp"
#include "connectors/connection_url.hpp"
#include "connectors/http_client.hpp"
#include "connectors/select_statement.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors::clickhouse_detail {

// Bytes read from the socket per call while streaming a result.
constexpr std::size_t read_chunk_bytes = 256 * 1024;
// An error body is a short text; more is cut.
constexpr std::size_t error_body_limit = 64 * 1024;
// Every socket read/write; long inserts and merges stay well inside it.
constexpr std::chrono::milliseconds io_timeout{300000};
// Column comments "sluice:TYPE" record the portable type of a column the sink created.
constexpr std::string_view hint_prefix = "sluice:";

// 'text' with backslash and quote escaped.
std::string ch_literal(std::string_view v);
// Backquoted names, ch_literal literals.
const sql_quoting& ch_quoting();
// The portable column of a ClickHouse type ("Nullable(Decimal(12, 2))").
column column_of(std::string name, std::string_view type);
// ClickHouse has one String for text, bytes and JSON, UInt8 for booleans and DateTime for both
// timestamp kinds. A hint (the `sluice:TYPE` comment our sink puts on columns it creates, or the
// read request's `expected` schema) restores the portable type where the native one is ambiguous.
void refine(column& c, column_type hint);
// The ClickHouse declaration of a portable column; key columns are never Nullable (18.16).
std::string ch_type_of(const column& c, bool key);
// A fresh query_id, so a statement can be killed.
std::string new_query_id();
// Splits one TabSeparated line into fields (views into `line`).
void split_tabs(std::string_view line, std::vector<std::string_view>& out);

// One connection's HTTP client, credentials, database and settings. One statement at a time;
// cancel() is thread-safe.
class ch_link {
public:
    static core::result<std::unique_ptr<ch_link>> open(const config::connection_spec& spec) {
        auto parsed = parse_connection_url(spec.url);
        if (!parsed) {
            return parsed.error();
        }
        if (parsed->scheme != "http" && parsed->scheme != "https") {
            return core::error::permanent("connection '" + spec.name +
                                          "': a ClickHouse url starts with http:// or https://");
        }
        auto link = std::unique_ptr<ch_link>(new ch_link());
        link->name_ = spec.name;
        link->password_ = parsed->password;
        link->database_ = parsed->query_value("database")
                              .value_or(parsed->database.empty() ? "default" : parsed->database);
        // Every other query parameter is a ClickHouse setting sent with each statement
        // (?database=db&max_memory_usage=1000000000&max_execution_time=600).
        for (const auto& [key, value] : parsed->query) {
            if (key != "database") {
                link->settings_ += "&" + url_encode(key) + "=" + url_encode(value);
            }
        }
        link->endpoint_ = {parsed->scheme == "https",
                           parsed->host,
                           parsed->port.value_or(parsed->scheme == "https" ? 8443 : 8123),
                           {}};
        link->connect_timeout_ =
            std::chrono::duration_cast<std::chrono::milliseconds>(spec.connect_timeout);
        if (!parsed->user.empty() || parsed->password) {
            // Basic auth: the password never goes into a url a proxy or server log could show.
            std::string credentials;
            append_base64(credentials, parsed->user + ":" + parsed->password.value_or(""));
            link->headers_.emplace_back("Authorization", "Basic " + credentials);
        }
        link->client_ =
            std::make_unique<http_client>(link->endpoint_, link->connect_timeout_, io_timeout);
        return link;
    }

    const std::string& name() const { return name_; }
    const std::string& database() const { return database_; }

    core::error failure(const std::string& what, const std::string& body) const {
        const auto code = parse_clickhouse_code(body);
        std::string text = scrub_secret(body, password_);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
            text.pop_back();
        }
        return core::error{code ? classify_clickhouse_code(*code) : core::error_class::transient,
                           "connection '" + name_ + "': " + what + ": ClickHouse error " +
                               (code ? std::to_string(*code) : std::string("?")) + ": " + text};
    }

    // Sends a statement; on success the body is left to read (streaming). `sql` goes in the
    // url when `data` carries rows (INSERT ... FORMAT), else in the body.
    core::result<void> start(const std::string& sql, std::string_view data = {},
                             bool sql_in_url = false, const std::string& extra_settings = {}) {
        const std::string id = new_query_id();
        {
            std::lock_guard lock(mutex_);
            query_id_ = id;
        }
        std::string target =
            "/?database=" + url_encode(database_) + "&query_id=" + id + settings_ + extra_settings;
        if (sql_in_url) {
            target += "&query=" + url_encode(sql);
        }
        auto head = client_->send("POST", target, headers_, sql_in_url ? data : sql);
        if (!head) {
            return core::error{head.error().cls,
                               "connection '" + name_ + "': " + head.error().message};
        }
        if (head->status != 200) {
            auto body = client_->read_body(error_body_limit);
            return failure("query failed",
                           body ? *body : "HTTP status " + std::to_string(head->status));
        }
        return {};
    }

    core::result<std::size_t> read_some(char* out, std::size_t size) {
        auto n = client_->read_body_some(out, size);
        if (!n) {
            return core::error{n.error().cls, "connection '" + name_ + "': " + n.error().message};
        }
        return *n;
    }

    // Runs a statement and returns its whole (small) result.
    core::result<std::string> run(const std::string& sql) {
        auto started = start(sql);
        if (!started) {
            return started.error();
        }
        auto body = client_->read_body(error_body_limit * 16);
        if (!body) {
            return core::error{body.error().cls,
                               "connection '" + name_ + "': " + body.error().message};
        }
        return *body;
    }

    // KILL QUERY for the statement in flight, from a second connection (thread-safe).
    void cancel() {
        std::string id;
        {
            std::lock_guard lock(mutex_);
            id = query_id_;
        }
        if (id.empty()) {
            return;
        }
        http_client killer(endpoint_, connect_timeout_, std::chrono::seconds(10));
        const std::string sql = "KILL QUERY WHERE query_id = " + ch_literal(id) + " ASYNC";
        if (auto head = killer.send("POST", "/", headers_, sql)) {
            // The reply only says whether the kill was queued; the statement reports the rest.
            (void)killer.read_body(error_body_limit);
        }
    }

private:
    ch_link() = default;
    std::string name_;
    std::optional<std::string> password_;
    std::string database_;
    std::string settings_;  // "&name=value..." for every statement
    http_endpoint endpoint_;
    std::chrono::milliseconds connect_timeout_{10000};
    std::vector<std::pair<std::string, std::string>> headers_;
    std::unique_ptr<http_client> client_;
    std::mutex mutex_;
    std::string query_id_;
};

// The `sluice:TYPE` comments of a table's columns.
core::result<std::vector<std::pair<std::string, column_type>>> column_hints(
    ch_link& link, const std::string& table);

}  // namespace sluice::connectors::clickhouse_detail
