#include "connectors/clickhouse/clickhouse_link.hpp"

#include <random>

namespace sluice::connectors::clickhouse_detail {

std::string ch_literal(std::string_view v) {
    std::string out = "'";
    for (const char c : v) {
        if (c == '\\' || c == '\'') {
            out += '\\';
        }
        out += c;
    }
    out += '\'';
    return out;
}

const sql_quoting& ch_quoting() {
    static const sql_quoting q{[](std::string_view n) { return quote_dotted(n, '`', '`'); },
                               [](std::string_view v) { return ch_literal(v); },
                               {}};
    return q;
}

namespace {

std::string_view unwrap(std::string_view type, std::string_view wrapper) {
    if (type.substr(0, wrapper.size()) == wrapper && type.size() > wrapper.size() + 1 &&
        type[wrapper.size()] == '(' && type.back() == ')') {
        return type.substr(wrapper.size() + 1, type.size() - wrapper.size() - 2);
    }
    return {};
}

}  // namespace

column column_of(std::string name, std::string_view type) {
    column c;
    c.name = std::move(name);
    c.native_type = std::string(type);
    c.nullable = false;
    if (auto inner = unwrap(type, "LowCardinality"); !inner.empty()) {
        type = inner;
    }
    if (auto inner = unwrap(type, "Nullable"); !inner.empty()) {
        type = inner;
        c.nullable = true;
    }
    if (type == "Int8" || type == "Int16" || type == "UInt8") {
        c.type = column_type::int16;
    } else if (type == "UInt16" || type == "Int32") {
        c.type = column_type::int32;
    } else if (type == "UInt32" || type == "Int64") {
        c.type = column_type::int64;
    } else if (type == "UInt64") {
        c.type = column_type::decimal;
        c.precision = 20;
    } else if (type == "Float32") {
        c.type = column_type::float32;
    } else if (type == "Float64") {
        c.type = column_type::float64;
    } else if (auto args = unwrap(type, "Decimal"); !args.empty()) {
        c.type = column_type::decimal;
        const auto comma = args.find(',');
        c.precision = std::atoi(std::string(args.substr(0, comma)).c_str());
        c.scale = comma == std::string_view::npos
                      ? 0
                      : std::atoi(std::string(args.substr(comma + 1)).c_str());
    } else if (type == "Date") {
        c.type = column_type::date;
    } else if (type.substr(0, 8) == "DateTime") {
        c.type = column_type::timestamp_tz;
    } else {
        c.type = column_type::text;  // String, FixedString, UUID, Enum, arrays in their text
    }
    return c;
}

void refine(column& c, column_type hint) {
    const bool ok = (c.type == column_type::text &&
                     (hint == column_type::bytes || hint == column_type::json)) ||
                    (c.type == column_type::int16 && hint == column_type::boolean) ||
                    (c.type == column_type::timestamp_tz && hint == column_type::timestamp);
    if (ok) {
        c.type = hint;
    }
}

std::string ch_type_of(const column& c, bool key) {
    std::string t;
    switch (c.type) {
        case column_type::boolean:
            t = "UInt8";
            break;
        case column_type::int16:
            t = "Int16";
            break;
        case column_type::int32:
            t = "Int32";
            break;
        case column_type::int64:
            t = "Int64";
            break;
        case column_type::decimal:
            t = c.precision > 0 && c.precision <= 38
                    ? "Decimal(" + std::to_string(c.precision) + ", " +
                          std::to_string(std::min(c.scale, c.precision)) + ")"
                    : "Decimal(38, 10)";
            break;
        case column_type::float32:
            t = "Float32";
            break;
        case column_type::float64:
            t = "Float64";
            break;
        case column_type::text:
        case column_type::bytes:
        case column_type::json:
            t = "String";
            break;
        case column_type::date:
            t = "Date";
            break;
        case column_type::timestamp:
        case column_type::timestamp_tz:
            t = "DateTime('UTC')";
            break;
    }
    // 18.16 refuses Nullable columns in the sorting key.
    return c.nullable && !key ? "Nullable(" + t + ")" : t;
}

std::string new_query_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return "sluice-" + std::to_string(rng());
}

void split_tabs(std::string_view line, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t start = 0;
    for (;;) {
        const auto tab = line.find('\t', start);
        out.push_back(line.substr(start, tab - start));
        if (tab == std::string_view::npos) {
            return;
        }
        start = tab + 1;
    }
}

core::result<std::vector<std::pair<std::string, column_type>>> column_hints(
    ch_link& link, const std::string& table) {
    const auto dot = table.find('.');
    const std::string db = dot == std::string::npos ? link.database() : table.substr(0, dot);
    const std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
    auto body =
        link.run("SELECT name, comment FROM system.columns WHERE database = " + ch_literal(db) +
                 " AND table = " + ch_literal(name) + " AND startsWith(comment, " +
                 ch_literal(hint_prefix) + ") FORMAT TabSeparated");
    if (!body) {
        return body.error();
    }
    std::vector<std::pair<std::string, column_type>> out;
    std::vector<std::string_view> fields;
    std::string_view rest = *body;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        split_tabs(rest.substr(0, nl), fields);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if (fields.size() == 2) {
            std::string n;
            std::string comment;
            append_tsv_unescaped(n, fields[0]);
            append_tsv_unescaped(comment, fields[1]);
            if (auto t =
                    column_type_from_string(std::string_view(comment).substr(hint_prefix.size()))) {
                out.emplace_back(std::move(n), *t);
            }
        }
    }
    return out;
}

}  // namespace sluice::connectors::clickhouse_detail
