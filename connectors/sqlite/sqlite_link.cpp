#include "connectors/sqlite/sqlite_link.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace sluice::connectors::sqlite_detail {

const sql_quoting& sqlite_quoting() {
    static const sql_quoting q{[](std::string_view n) { return quote_dotted(n, '"', '"'); },
                               [](std::string_view v) { return quote_standard_literal(v); },
                               {}};
    return q;
}

// Declared types are how a SQLite column keeps its portable type. The names we create keep the
// value exact under SQLite's affinity rules: DECIMAL_TEXT and JSON_TEXT have TEXT affinity (a
// NUMERIC one would turn '1.50' into the real 1.5).
column column_of(const char* name, const char* declared) {
    column c;
    c.name = name;
    std::string d = declared != nullptr ? declared : "";
    c.native_type = d;
    std::transform(d.begin(), d.end(), d.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    const auto has = [&](std::string_view s) { return d.find(s) != std::string::npos; };
    if (d.rfind("BOOL", 0) == 0) {
        c.type = column_type::boolean;
    } else if (d.rfind("DECIMAL", 0) == 0 || d.rfind("NUMERIC", 0) == 0) {
        c.type = column_type::decimal;
        const auto open = d.find('(');
        if (open != std::string::npos) {
            const char* p = d.c_str() + open + 1;
            const char* end = d.c_str() + d.size();
            auto r = std::from_chars(p, end, c.precision);
            if (r.ptr < end && *r.ptr == ',') {
                std::from_chars(r.ptr + 1, end, c.scale);
            }
        }
    } else if (d == "SMALLINT" || d == "INT2" || d == "TINYINT") {
        c.type = column_type::int16;
    } else if (d == "INT4" || d == "MEDIUMINT") {
        c.type = column_type::int32;
    } else if (has("INT")) {
        c.type = column_type::int64;
    } else if (d == "FLOAT4" || d == "REAL4") {
        c.type = column_type::float32;
    } else if (has("REAL") || has("FLOA") || has("DOUB")) {
        c.type = column_type::float64;
    } else if (has("BLOB") || d == "BYTEA" || d == "BYTES") {
        c.type = column_type::bytes;
    } else if (d.rfind("TIMESTAMPTZ", 0) == 0 || d.rfind("TIMESTAMP_TZ", 0) == 0) {
        c.type = column_type::timestamp_tz;
    } else if (d.rfind("TIMESTAMP", 0) == 0 || d.rfind("DATETIME", 0) == 0) {
        c.type = column_type::timestamp;
    } else if (d == "DATE") {
        c.type = column_type::date;
    } else if (d.rfind("JSON", 0) == 0) {
        c.type = column_type::json;
    } else {
        c.type = column_type::text;
    }
    return c;
}

std::string sqlite_type_of(const column& c) {
    switch (c.type) {
        case column_type::boolean:
            return "BOOLEAN";
        case column_type::int16:
            return "SMALLINT";
        case column_type::int32:
            return "INT4";
        case column_type::int64:
            return "INTEGER";
        case column_type::decimal:
            return c.precision > 0 ? "DECIMAL_TEXT(" + std::to_string(c.precision) + "," +
                                         std::to_string(c.scale) + ")"
                                   : "DECIMAL_TEXT";
        case column_type::float32:
            return "FLOAT4";
        case column_type::float64:
            return "DOUBLE";
        case column_type::text:
            return "TEXT";
        case column_type::bytes:
            return "BLOB";
        case column_type::date:
            return "DATE";
        case column_type::timestamp:
            return "TIMESTAMP";
        case column_type::timestamp_tz:
            return "TIMESTAMPTZ";
        case column_type::json:
            return "JSON_TEXT";
    }
    return "TEXT";
}

schema schema_of(sqlite3_stmt* stmt) {
    schema out;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        out.columns.push_back(
            column_of(sqlite3_column_name(stmt, i), sqlite3_column_decltype(stmt, i)));
    }
    return out;
}

}  // namespace sluice::connectors::sqlite_detail
