#include "store/postgres/update_merge.hpp"

#include <set>

namespace sluice::store::postgres {

namespace {

constexpr std::string_view alias = "sluice_v";

std::size_t count_of(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t pos = text.find(what); pos != std::string_view::npos;
         pos = text.find(what, pos + what.size())) {
        ++n;
    }
    return n;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::optional<update_shape> shape_of_update(std::string_view sql) {
    constexpr std::string_view update = "UPDATE ";
    constexpr std::string_view set = " SET ";
    constexpr std::string_view where = " WHERE ";
    constexpr std::string_view by_id = " WHERE id = $";
    if (!sql.starts_with(update) || count_of(sql, where) != 1 || count_of(sql, by_id) != 1 ||
        sql.find(" RETURNING ") != std::string_view::npos ||
        sql.find(" FROM ") != std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t set_at = sql.find(set);
    if (set_at == std::string_view::npos || set_at <= update.size()) {
        return std::nullopt;
    }
    update_shape shape;
    shape.table = std::string(sql.substr(update.size(), set_at - update.size()));
    if (shape.table.find_first_of(" (\"") != std::string::npos) {
        return std::nullopt;
    }
    // Every $N becomes sluice_v.pN; the parameters used must be exactly $1..$n.
    std::set<std::size_t> used;
    std::string body;
    body.reserve(sql.size() + 64);
    const std::size_t where_at = sql.find(where);
    for (std::size_t i = 0; i < sql.size(); ++i) {
        if (i == where_at) {
            body += " FROM unnest(";
            body += "@ARRAYS@";
            body += ") AS ";
            body += alias;
            body += "(@COLUMNS@)";
        }
        if (sql[i] != '$' || i + 1 >= sql.size() || !is_digit(sql[i + 1])) {
            body += sql[i];
            continue;
        }
        std::size_t n = 0;
        while (i + 1 < sql.size() && is_digit(sql[i + 1])) {
            n = n * 10 + static_cast<std::size_t>(sql[++i] - '0');
        }
        if (n == 0) {
            return std::nullopt;
        }
        used.insert(n);
        body += alias;
        body += ".p" + std::to_string(n);
    }
    if (used.empty() || *used.rbegin() != used.size()) {
        return std::nullopt;
    }
    shape.params = used.size();
    const std::size_t id_digits = sql.find(by_id) + by_id.size();
    std::size_t id = 0;
    for (std::size_t i = id_digits; i < sql.size() && is_digit(sql[i]); ++i) {
        id = id * 10 + static_cast<std::size_t>(sql[i] - '0');
    }
    shape.id_param = id - 1;
    std::string arrays;
    std::string columns;
    for (std::size_t n = 1; n <= shape.params; ++n) {
        arrays += (n == 1 ? "$" : ", $") + std::to_string(n);
        columns += (n == 1 ? "p" : ", p") + std::to_string(n);
    }
    body.replace(body.find("@ARRAYS@"), 8, arrays);
    body.replace(body.find("@COLUMNS@"), 9, columns);
    shape.merged_sql = body + " RETURNING id";
    return shape;
}

std::optional<unsigned> array_type_of(unsigned element_type) {
    switch (element_type) {
        case 16:  // boolean
            return 1000;
        case 20:  // bigint
            return 1016;
        case 21:  // smallint
            return 1005;
        case 23:  // integer
            return 1007;
        case 25:  // text
            return 1009;
        case 114:  // json
            return 199;
        case 701:  // double precision
            return 1022;
        case 1043:  // varchar
            return 1015;
        case 3802:  // jsonb
            return 3807;
        default:
            return std::nullopt;
    }
}

std::string array_literal(std::span<const sql_value* const> values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        const sql_value& v = *values[i];
        if (const auto* n = std::get_if<std::int64_t>(&v)) {
            out += std::to_string(*n);
        } else if (const auto* t = std::get_if<std::string>(&v)) {
            out += '"';
            for (char c : *t) {
                if (c == '"' || c == '\\') {
                    out += '\\';
                }
                out += c;
            }
            out += '"';
        } else {
            out += "NULL";
        }
    }
    out += '}';
    return out;
}

}  // namespace sluice::store::postgres
