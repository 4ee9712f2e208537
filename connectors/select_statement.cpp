#include "connectors/select_statement.hpp"

namespace sluice::connectors {

std::string quote_dotted(std::string_view name, char open, char close) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const auto dot = name.find('.', start);
        const std::string_view part = name.substr(start, dot - start);
        out += open;
        for (const char c : part) {
            if (c == close) {
                out += close;
            }
            out += c;
        }
        out += close;
        if (dot == std::string_view::npos) {
            return out;
        }
        out += '.';
        start = dot + 1;
    }
}

std::string quote_standard_literal(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'') {
            out += '\'';
        }
        out += c;
    }
    out += '\'';
    return out;
}

std::string quote_escape_literal(std::string_view text) {
    std::string out = "E'";
    for (const char c : text) {
        if (c == '\'' || c == '\\') {
            out += c;
        }
        out += c;
    }
    out += '\'';
    return out;
}

std::string build_from(const read_request& request, const sql_quoting& q) {
    if (request.query) {
        return "(" + *request.query + ") AS sluice_q";
    }
    return q.identifier(request.table.value_or("")) + (request.final ? " FINAL" : "");
}

namespace {

// "(c1, c2) OP (v1, v2)" (without parentheses for one column).
std::string tuple_comparison(const cursor_bound& b, const std::string& op, const sql_quoting& q) {
    const std::size_t n = std::min(b.columns.size(), b.values.size());
    std::string lhs;
    std::string rhs;
    for (std::size_t i = 0; i < n; ++i) {
        lhs += (i == 0 ? "" : ", ") + q.identifier(b.columns[i]);
        rhs +=
            (i == 0 ? "" : ", ") + (q.cursor_literal ? q.cursor_literal(b.columns[i], b.values[i])
                                                     : q.literal(b.values[i]));
    }
    return n == 1 ? lhs + op + rhs : "(" + lhs + ")" + op + "(" + rhs + ")";
}

}  // namespace

std::string build_predicate(const read_request& request, const sql_quoting& q) {
    std::string out;
    if (request.after && !request.after->values.empty()) {
        out = tuple_comparison(*request.after, request.after->inclusive ? " >= " : " > ", q);
    }
    if (request.until && !request.until->values.empty()) {
        out += (out.empty() ? "" : " AND ") +
               tuple_comparison(*request.until, request.until->inclusive ? " <= " : " < ", q);
    }
    if (request.where && !request.where->empty()) {
        out += (out.empty() ? "(" : " AND (") + *request.where + ")";
    }
    return out;
}

std::string build_select(const read_request& request, const sql_quoting& q) {
    std::string sql = "SELECT ";
    if (request.columns.empty()) {
        sql += "*";
    }
    for (std::size_t i = 0; i < request.columns.size(); ++i) {
        sql += i == 0 ? "" : ", ";
        const bool has_expression =
            i < request.expressions.size() && request.expressions[i].has_value();
        if (has_expression) {
            sql += *request.expressions[i] + " AS " + q.identifier(request.columns[i]);
        } else {
            sql += q.identifier(request.columns[i]);
        }
    }
    sql += " FROM " + build_from(request, q);
    const std::string predicate = build_predicate(request, q);
    if (!predicate.empty()) {
        sql += " WHERE " + predicate;
    }
    for (std::size_t i = 0; i < request.order_by.size(); ++i) {
        sql += (i == 0 ? " ORDER BY " : ", ") + q.identifier(request.order_by[i]);
    }
    if (request.limit) {
        sql += " LIMIT " + std::to_string(*request.limit);
    }
    return sql;
}

}  // namespace sluice::connectors
