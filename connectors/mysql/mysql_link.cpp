#include "connectors/mysql/mysql_link.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>

namespace sluice::connectors::mysql_detail {

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

core::result<MYSQL*> connect_mysql(const connection_url& url, core::duration timeout,
                                   const std::string& shown_url) {
    init_library_once();
    MYSQL* conn = mysql_init(nullptr);
    if (conn == nullptr) {
        return core::error::transient("cannot allocate a MySQL connection handle");
    }
    // The connector counts whole seconds.
    const unsigned int seconds = static_cast<unsigned int>(
        std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    const auto socket = url.query_value("socket");
    const std::string host = url.host.empty() ? "localhost" : url.host;
    if (mysql_real_connect(conn, host.c_str(), url.user.empty() ? nullptr : url.user.c_str(),
                           url.password ? url.password->c_str() : nullptr,
                           url.database.empty() ? nullptr : url.database.c_str(),
                           static_cast<unsigned int>(url.port.value_or(3306)),
                           socket ? socket->c_str() : nullptr, 0) == nullptr) {
        const unsigned int code = mysql_errno(conn);
        const std::string message = scrub_secret(mysql_error(conn), url.password);
        mysql_close(conn);
        return core::error{classify_mysql_errno(code), "cannot connect to MySQL at " + shown_url +
                                                           ": error " + std::to_string(code) +
                                                           ": " + message};
    }
    return conn;
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

}  // namespace sluice::connectors::mysql_detail
