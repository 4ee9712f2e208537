#include "connectors/mysql_connector.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>

#include <mysql.h>

#include "connectors/connection_url.hpp"
#include "connectors/select_statement.hpp"
#include "connectors/sql_errors.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

namespace {

// The largest INSERT statement we build; the server's max_allowed_packet lowers it. Multi-row
// INSERT is the bulk path (not LOAD DATA LOCAL INFILE): it also serves upserts through ON
// DUPLICATE KEY UPDATE, and needs no local_infile on either side (often disabled for security).
constexpr std::size_t max_statement_bytes = 8 << 20;

constexpr unsigned int binary_charset = 63;

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

column column_of(const MYSQL_FIELD& f) {
    column c;
    c.name = f.name;
    c.nullable = (f.flags & NOT_NULL_FLAG) == 0;
    const bool is_unsigned = (f.flags & UNSIGNED_FLAG) != 0;
    switch (f.type) {
        case MYSQL_TYPE_TINY:
            c.type = f.length == 1 ? column_type::boolean : column_type::int16;
            c.native_type = f.length == 1 ? "tinyint(1)" : "tinyint";
            break;
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_YEAR:
            c.type = is_unsigned ? column_type::int32 : column_type::int16;
            c.native_type = "smallint";
            break;
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
            c.type = is_unsigned ? column_type::int64 : column_type::int32;
            c.native_type = "int";
            break;
        case MYSQL_TYPE_LONGLONG:
            c.type = is_unsigned ? column_type::decimal : column_type::int64;
            c.precision = is_unsigned ? 20 : 0;
            c.native_type = is_unsigned ? "bigint unsigned" : "bigint";
            break;
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL:
            c.type = column_type::decimal;
            c.scale = static_cast<int>(f.decimals);
            c.precision =
                static_cast<int>(f.length) - (f.decimals > 0 ? 1 : 0) - (is_unsigned ? 0 : 1);
            c.native_type =
                "decimal(" + std::to_string(c.precision) + "," + std::to_string(c.scale) + ")";
            break;
        case MYSQL_TYPE_FLOAT:
            c.type = column_type::float32;
            c.native_type = "float";
            break;
        case MYSQL_TYPE_DOUBLE:
            c.type = column_type::float64;
            c.native_type = "double";
            break;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_NEWDATE:
            c.type = column_type::date;
            c.native_type = "date";
            break;
        case MYSQL_TYPE_DATETIME:
            c.type = column_type::timestamp;
            c.native_type = "datetime";
            break;
        case MYSQL_TYPE_TIMESTAMP:
            c.type = column_type::timestamp_tz;
            c.native_type = "timestamp";
            break;
        case MYSQL_TYPE_JSON:
            c.type = column_type::json;
            c.native_type = "json";
            break;
        case MYSQL_TYPE_BIT:
            c.type = column_type::bytes;
            c.native_type = "bit";
            break;
        default:
            c.type = f.charsetnr == binary_charset ? column_type::bytes : column_type::text;
            c.native_type = f.charsetnr == binary_charset ? "blob" : "text";
    }
    // MariaDB's JSON is LONGTEXT on the wire; the extended metadata names the format.
    MARIADB_CONST_STRING format{};
    if (c.type == column_type::text &&
        mariadb_field_attr(&format, &f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 &&
        std::string_view(format.str, format.length) == "json") {
        c.type = column_type::json;
        c.native_type = "json";
    }
    return c;
}

std::string mysql_type_of(const column& c, bool key) {
    switch (c.type) {
        case column_type::boolean:
            return "BOOLEAN";
        case column_type::int16:
            return "SMALLINT";
        case column_type::int32:
            return "INT";
        case column_type::int64:
            return "BIGINT";
        case column_type::decimal:
            return c.precision > 0 && c.precision <= 65
                       ? "DECIMAL(" + std::to_string(c.precision) + "," +
                             std::to_string(std::min(c.scale, 30)) + ")"
                       : "DECIMAL(65,30)";
        case column_type::float32:
            return "FLOAT";
        case column_type::float64:
            return "DOUBLE";
        case column_type::text:
            return key ? "VARCHAR(255)" : "LONGTEXT";
        case column_type::bytes:
            return key ? "VARBINARY(255)" : "LONGBLOB";
        case column_type::date:
            return "DATE";
        case column_type::timestamp:
        case column_type::timestamp_tz:  // UTC wall clock: TIMESTAMP ends in 2038
            return "DATETIME(6)";
        case column_type::json:
            return "JSON";
    }
    return "LONGTEXT";
}

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
        link->shown_url_ = config::redact_url(spec.url);
        link->timeout_ = spec.connect_timeout;
        auto conn = link->connect(spec.connect_timeout);
        if (!conn) {
            return conn.error();
        }
        link->conn_ = *conn;
        link->thread_id_ = mysql_thread_id(link->conn_);
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

    // KILL QUERY from a second connection (thread-safe).
    void cancel() {
        auto killer = connect(std::min<core::duration>(timeout_, std::chrono::seconds(5)));
        if (!killer) {
            return;  // unreachable: the statement's own error says what happened
        }
        const std::string kill = "KILL QUERY " + std::to_string(thread_id_);
        mysql_real_query(*killer, kill.data(), kill.size());
        mysql_close(*killer);
    }

private:
    mysql_link() = default;

    core::result<MYSQL*> connect(core::duration timeout) const {
        init_library_once();
        MYSQL* conn = mysql_init(nullptr);
        if (conn == nullptr) {
            return core::error::transient("cannot allocate a MySQL connection handle");
        }
        const unsigned int seconds = static_cast<unsigned int>(std::max<long long>(
            1, std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
        mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
        mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        const auto socket = url_.query_value("socket");
        const std::string host = url_.host.empty() ? "localhost" : url_.host;
        if (mysql_real_connect(conn, host.c_str(), url_.user.empty() ? nullptr : url_.user.c_str(),
                               url_.password ? url_.password->c_str() : nullptr,
                               url_.database.empty() ? nullptr : url_.database.c_str(),
                               static_cast<unsigned int>(url_.port.value_or(3306)),
                               socket ? socket->c_str() : nullptr, 0) == nullptr) {
            const unsigned int code = mysql_errno(conn);
            const std::string message = scrub_secret(mysql_error(conn), url_.password);
            mysql_close(conn);
            return core::error{classify_mysql_errno(code),
                               "connection '" + name_ + "': cannot connect to MySQL at " +
                                   shown_url_ + ": error " + std::to_string(code) + ": " + message};
        }
        return conn;
    }

    MYSQL* conn_ = nullptr;
    connection_url url_;
    std::string name_;
    std::string shown_url_;
    core::duration timeout_{};
    unsigned long thread_id_ = 0;
    std::size_t max_packet_ = 1 << 20;
};

class mysql_reader final : public row_reader {
public:
    // `declared`, when given, replaces the result's own column types (FLOAT columns read
    // through CAST(... AS DOUBLE) stay float32).
    mysql_reader(mysql_link& link, MYSQL_RES* res, batch_limits limits,
                 std::optional<connectors::schema> declared = std::nullopt)
        : link_(link), res_(res), limits_(limits) {
        const unsigned int n = mysql_num_fields(res);
        MYSQL_FIELD* fields = mysql_fetch_fields(res);
        for (unsigned int i = 0; i < n; ++i) {
            schema_.columns.push_back(column_of(fields[i]));
        }
        if (declared && declared->columns.size() == schema_.columns.size()) {
            schema_ = std::move(*declared);
        }
    }

    ~mysql_reader() override {
        if (!done_) {
            // mysql_free_result would read the rest of the table: stop the server first.
            link_.cancel();
        }
        mysql_free_result(res_);
    }

    const connectors::schema& schema() const override { return schema_; }

    core::result<bool> next(row_batch& out) override {
        out.reset(schema_.columns.size());
        while (!done_ && !limits_.reached(out)) {
            MYSQL_ROW row = mysql_fetch_row(res_);
            if (row == nullptr) {
                done_ = true;
                if (mysql_errno(link_.conn()) != 0) {
                    out.clear();
                    return link_.failure("reading rows failed");
                }
                break;
            }
            const unsigned long* lengths = mysql_fetch_lengths(res_);
            for (std::size_t c = 0; c < schema_.columns.size(); ++c) {
                if (row[c] == nullptr) {
                    out.add_null();
                    continue;
                }
                const std::string_view v(row[c], lengths[c]);
                switch (schema_.columns[c].type) {
                    case column_type::boolean:
                        out.add(v == "0" ? "false" : "true");
                        break;
                    case column_type::timestamp:
                    case column_type::timestamp_tz:
                        out.add(canonical_timestamp(v));
                        break;
                    case column_type::float32:
                        if (auto d = parse_float(v)) {
                            out.add(format_float32(static_cast<float>(*d)));
                        } else {
                            out.add(v);
                        }
                        break;
                    default:
                        out.add(v);
                }
            }
        }
        return !out.empty();
    }

private:
    mysql_link& link_;
    MYSQL_RES* res_;
    connectors::schema schema_;
    batch_limits limits_;
    bool done_ = false;
};

class mysql_source final : public source {
public:
    explicit mysql_source(std::unique_ptr<mysql_link> link) : link_(std::move(link)) {}

    core::result<schema> describe(const read_request& request) override {
        return columns_of(request);
    }

    core::result<std::unique_ptr<row_reader>> read(const read_request& request) override {
        // The text protocol prints FLOAT with 6 significant digits (16777216 -> 16777200):
        // such columns are selected as CAST(... AS DOUBLE) and narrowed back here, exactly.
        auto declared = columns_of(request);
        if (!declared) {
            return declared.error();
        }
        read_request r = request;
        bool has_float = false;
        for (std::size_t i = 0; i < declared->columns.size(); ++i) {
            if (declared->columns[i].type != column_type::float32) {
                continue;
            }
            if (!has_float && r.columns.empty()) {
                for (const auto& c : declared->columns) {
                    r.columns.push_back(c.name);
                }
            }
            has_float = true;
            r.expressions.resize(r.columns.size());
            const std::string inner =
                r.expressions[i] ? *r.expressions[i] : link_->quoting().identifier(r.columns[i]);
            r.expressions[i] = "CAST(" + inner + " AS DOUBLE)";
        }
        auto res = start(build_select(r, link_->quoting()));
        if (!res) {
            return res.error();
        }
        return std::unique_ptr<row_reader>(std::make_unique<mysql_reader>(
            *link_, *res, request.limits,
            has_float ? std::optional<schema>(*declared) : std::nullopt));
    }

    core::result<std::optional<std::vector<std::optional<std::string>>>> max_cursor(
        const read_request& request, const std::vector<std::string>& cursor) override {
        const auto q = link_->quoting();
        std::string sql = "SELECT ";
        std::string order;
        for (std::size_t i = 0; i < cursor.size(); ++i) {
            sql += (i == 0 ? "" : ", ") + q.identifier(cursor[i]);
            order += (i == 0 ? "" : ", ") + q.identifier(cursor[i]) + " DESC";
        }
        read_request r = request;
        r.after.reset();
        sql += " FROM " + build_from(r, q);
        const std::string predicate = build_predicate(r, q);
        if (!predicate.empty()) {
            sql += " WHERE " + predicate;
        }
        sql += " ORDER BY " + order + " LIMIT 1";
        read_request wrapped;
        wrapped.query = sql;
        auto reader = read(wrapped);
        if (!reader) {
            return reader.error();
        }
        row_batch batch;
        auto got = (*reader)->next(batch);
        if (!got) {
            return got.error();
        }
        if (!*got) {
            return std::optional<std::vector<std::optional<std::string>>>();
        }
        std::vector<std::optional<std::string>> out;
        for (std::size_t i = 0; i < cursor.size(); ++i) {
            out.push_back(batch.value(0, i));
        }
        for (auto more = (*reader)->next(batch); more && *more; more = (*reader)->next(batch)) {
        }
        return std::optional(std::move(out));
    }

    void cancel() override { link_->cancel(); }

private:
    // Runs `sql` streaming its result (mysql_use_result: rows come as they are fetched, never
    // the whole table).
    core::result<MYSQL_RES*> start(const std::string& sql) {
        if (mysql_real_query(link_->conn(), sql.data(), sql.size()) != 0) {
            return link_->failure("cannot start reading");
        }
        MYSQL_RES* res = mysql_use_result(link_->conn());
        if (res == nullptr) {
            return link_->failure("cannot start reading");
        }
        return res;
    }

    // The result's columns as the server declares them (LIMIT 0: no rows are read).
    core::result<schema> columns_of(const read_request& request) {
        read_request r = request;
        r.limit = 0;
        auto res = start(build_select(r, link_->quoting()));
        if (!res) {
            return res.error();
        }
        mysql_reader reader(*link_, *res, {});
        row_batch drain;
        for (auto more = reader.next(drain); more && *more; more = reader.next(drain)) {
        }
        return reader.schema();
    }

    std::unique_ptr<mysql_link> link_;
};

class mysql_sink final : public sink {
public:
    explicit mysql_sink(std::unique_ptr<mysql_link> link) : link_(std::move(link)) {}

    core::result<std::optional<schema>> describe_table(const std::string& table) override {
        const auto dot = table.find('.');
        const std::string schema_sql =
            dot == std::string::npos ? "DATABASE()" : link_->literal(table.substr(0, dot));
        const std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
        auto count = link_->scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = " + schema_sql +
            " AND table_name = " + link_->literal(name));
        if (!count) {
            return count.error();
        }
        if (!*count || **count == "0") {
            return std::optional<schema>();
        }
        read_request r;
        r.table = table;
        r.limit = 0;
        const std::string sql = build_select(r, link_->quoting());
        if (mysql_real_query(link_->conn(), sql.data(), sql.size()) != 0) {
            return link_->failure("cannot describe " + table);
        }
        MYSQL_RES* res = mysql_store_result(link_->conn());
        if (res == nullptr) {
            return link_->failure("cannot describe " + table);
        }
        schema out;
        MYSQL_FIELD* fields = mysql_fetch_fields(res);
        for (unsigned int i = 0; i < mysql_num_fields(res); ++i) {
            out.columns.push_back(column_of(fields[i]));
        }
        mysql_free_result(res);
        return std::optional<schema>(std::move(out));
    }

    core::result<void> create_table(const std::string& table, const schema& columns,
                                    const create_options& options) override {
        const auto q = link_->quoting();
        std::string ddl = "CREATE TABLE " + q.identifier(table) + " (";
        for (std::size_t i = 0; i < columns.columns.size(); ++i) {
            const auto& c = columns.columns[i];
            const bool key =
                std::find(options.key.begin(), options.key.end(), c.name) != options.key.end();
            ddl += (i == 0 ? "" : ", ") + q.identifier(c.name) + " " + mysql_type_of(c, key);
            ddl += c.nullable && !key ? " NULL" : " NOT NULL";
        }
        if (!options.key.empty()) {
            ddl += ", PRIMARY KEY (" + column_list(options.key) + ")";
        }
        ddl += ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
        return link_->exec(ddl);
    }

    bool transactional() const override { return true; }

    core::result<void> begin() override {
        // DDL commits implicitly in MySQL: the checkpoint table is made before the transaction.
        if (!checkpoint_table_ready_) {
            auto made = link_->exec(
                "CREATE TABLE IF NOT EXISTS sluice_checkpoints (`key` VARCHAR(255) NOT NULL "
                "PRIMARY KEY, value LONGTEXT NOT NULL, updated_at DATETIME(6) NOT NULL) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
            if (!made) {
                return made;
            }
            checkpoint_table_ready_ = true;
        }
        return link_->exec("START TRANSACTION");
    }
    core::result<void> commit() override { return link_->exec("COMMIT"); }
    core::result<void> rollback() override { return link_->exec("ROLLBACK"); }

    core::result<void> write(const write_request& request, const row_batch& rows) override {
        if (request.columns == nullptr) {
            return core::error::permanent("write without columns (programmer error)");
        }
        const schema& columns = *request.columns;
        std::vector<std::string> names;
        for (const auto& c : columns.columns) {
            names.push_back(c.name);
        }
        const auto q = link_->quoting();
        const std::string head =
            "INSERT INTO " + q.identifier(request.table) + " (" + column_list(names) + ") VALUES ";
        std::string tail;
        if (request.mode == write_mode::upsert) {
            for (const auto& n : names) {
                if (std::find(request.key.begin(), request.key.end(), n) == request.key.end()) {
                    tail += (tail.empty() ? " ON DUPLICATE KEY UPDATE " : ", ") + q.identifier(n) +
                            " = VALUES(" + q.identifier(n) + ")";
                }
            }
            if (tail.empty() && !names.empty()) {  // only key columns: keep the existing row
                tail = " ON DUPLICATE KEY UPDATE " + q.identifier(names[0]) + " = " +
                       q.identifier(names[0]);
            }
        }
        std::string sql = head;
        std::string tuple;
        std::size_t in_statement = 0;
        for (std::size_t r = 0; r < rows.row_count(); ++r) {
            tuple = "(";
            for (std::size_t c = 0; c < rows.column_count(); ++c) {
                tuple += c == 0 ? "" : ",";
                if (rows.is_null(r, c)) {
                    tuple += "NULL";
                    continue;
                }
                const std::string_view v = rows.at(r, c);
                switch (columns.columns[c].type) {
                    case column_type::bytes:
                        tuple += "X'";
                        append_hex(tuple, v);
                        tuple += '\'';
                        break;
                    case column_type::boolean:
                        tuple += parse_boolean(v).value_or(false) ? "1" : "0";
                        break;
                    default:
                        // Numbers too go as strings: the server converts them exactly, and no
                        // source text is ever spliced into the statement unquoted.
                        tuple += link_->literal(v);
                }
            }
            tuple += ')';
            if (in_statement > 0 && sql.size() + tuple.size() + tail.size() > link_->max_packet()) {
                auto sent = link_->exec(sql + tail);
                if (!sent) {
                    return sent;
                }
                sql = head;
                in_statement = 0;
            }
            sql += in_statement == 0 ? "" : ",";
            sql += tuple;
            ++in_statement;
        }
        if (in_statement > 0) {
            return link_->exec(sql + tail);
        }
        return {};
    }

    core::result<void> write_checkpoint(const checkpoint& mark) override {
        return link_->exec(
            "INSERT INTO sluice_checkpoints (`key`, value, updated_at) VALUES (" +
            link_->literal(mark.key) + ", " + link_->literal(mark.value) +
            ", UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = "
            "VALUES(updated_at)");
    }

    core::result<std::optional<std::string>> read_checkpoint(const std::string& key) override {
        auto exists = link_->scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
            "table_name = 'sluice_checkpoints'");
        if (!exists) {
            return exists.error();
        }
        if (!*exists || **exists == "0") {
            return std::optional<std::string>();
        }
        return link_->scalar("SELECT value FROM sluice_checkpoints WHERE `key` = " +
                             link_->literal(key));
    }

    void cancel() override { link_->cancel(); }

private:
    std::string column_list(const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) {
            out += (out.empty() ? "" : ", ") + quote_dotted(n, '`', '`');
        }
        return out;
    }

    std::unique_ptr<mysql_link> link_;
    bool checkpoint_table_ready_ = false;
};

}  // namespace

core::result<std::unique_ptr<source>> open_mysql_source(const config::connection_spec& spec) {
    auto link = mysql_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<source>(std::make_unique<mysql_source>(std::move(*link)));
}

core::result<std::unique_ptr<sink>> open_mysql_sink(const config::connection_spec& spec) {
    auto link = mysql_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<mysql_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
