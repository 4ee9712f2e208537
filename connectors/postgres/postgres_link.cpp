#include "connectors/postgres/postgres_link.hpp"

namespace sluice::connectors::postgres_detail {

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

const sql_quoting& pg_quoting() {
    static const sql_quoting q{[](std::string_view n) { return quote_dotted(n, '"', '"'); },
                               [](std::string_view v) { return quote_escape_literal(v); },
                               {}};
    return q;
}

column column_of(const std::string& name, Oid oid, int mod) {
    column c;
    c.name = name;
    switch (oid) {
        case 16:
            c.type = column_type::boolean;
            c.native_type = "boolean";
            break;
        case 21:
            c.type = column_type::int16;
            c.native_type = "smallint";
            break;
        case 23:
            c.type = column_type::int32;
            c.native_type = "integer";
            break;
        case 20:
        case 26:  // oid
            c.type = column_type::int64;
            c.native_type = "bigint";
            break;
        case 1700:
            c.type = column_type::decimal;
            if (mod >= 4) {
                c.precision = ((mod - 4) >> 16) & 0xffff;
                c.scale = (mod - 4) & 0xffff;
                c.native_type =
                    "numeric(" + std::to_string(c.precision) + "," + std::to_string(c.scale) + ")";
            } else {
                c.native_type = "numeric";
            }
            break;
        case 700:
            c.type = column_type::float32;
            c.native_type = "real";
            break;
        case 701:
            c.type = column_type::float64;
            c.native_type = "double precision";
            break;
        case 17:
            c.type = column_type::bytes;
            c.native_type = "bytea";
            break;
        case 1082:
            c.type = column_type::date;
            c.native_type = "date";
            break;
        case 1114:
            c.type = column_type::timestamp;
            c.native_type = "timestamp";
            break;
        case 1184:
            c.type = column_type::timestamp_tz;
            c.native_type = "timestamptz";
            break;
        case 114:
            c.type = column_type::json;
            c.native_type = "json";
            break;
        case 3802:
            c.type = column_type::json;
            c.native_type = "jsonb";
            break;
        default:  // text, varchar, char, uuid, and anything else in its text form
            c.type = column_type::text;
            c.native_type = oid == 25 ? "text" : "oid " + std::to_string(oid);
    }
    return c;
}

std::string pg_type_of(const column& c) {
    switch (c.type) {
        case column_type::boolean:
            return "boolean";
        case column_type::int16:
            return "smallint";
        case column_type::int32:
            return "integer";
        case column_type::int64:
            return "bigint";
        case column_type::decimal:
            return c.precision > 0 ? "numeric(" + std::to_string(c.precision) + "," +
                                         std::to_string(c.scale) + ")"
                                   : "numeric";
        case column_type::float32:
            return "real";
        case column_type::float64:
            return "double precision";
        case column_type::text:
            return "text";
        case column_type::bytes:
            return "bytea";
        case column_type::date:
            return "date";
        case column_type::timestamp:
            return "timestamp(6)";
        case column_type::timestamp_tz:
            return "timestamptz(6)";
        case column_type::json:
            return "json";  // not jsonb: json keeps the text as written
    }
    return "text";
}

}  // namespace sluice::connectors::postgres_detail
