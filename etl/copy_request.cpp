#include "etl/copy_request.hpp"

#include <cctype>

namespace sluice::etl {

namespace {

std::string literal(std::string_view text, config::connection_type engine) {
    // MySQL and ClickHouse read '\' as an escape inside string literals.
    const bool backslash =
        engine == config::connection_type::mysql || engine == config::connection_type::clickhouse;
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'') {
            out += '\'';
        } else if (c == '\\' && backslash) {
            out += '\\';
        }
        out += c;
    }
    return out + "'";
}

bool name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

}  // namespace

core::result<std::string> bind_query_text(
    std::string_view q, const std::map<std::string, std::optional<std::string>>& values,
    config::connection_type engine) {
    std::string out;
    out.reserve(q.size());
    std::size_t i = 0;
    while (i < q.size()) {
        const char c = q[i];
        // Quoted text and identifiers are copied as they are.
        if (c == '\'' || c == '"' || c == '`') {
            const std::size_t end = q.find(c, i + 1);
            const std::size_t stop = end == std::string_view::npos ? q.size() : end + 1;
            out.append(q.substr(i, stop - i));
            i = stop;
            continue;
        }
        if (c == '-' && i + 1 < q.size() && q[i + 1] == '-') {
            const std::size_t end = q.find('\n', i);
            const std::size_t stop = end == std::string_view::npos ? q.size() : end;
            out.append(q.substr(i, stop - i));
            i = stop;
            continue;
        }
        if (c == '/' && i + 1 < q.size() && q[i + 1] == '*') {
            const std::size_t end = q.find("*/", i + 2);
            const std::size_t stop = end == std::string_view::npos ? q.size() : end + 2;
            out.append(q.substr(i, stop - i));
            i = stop;
            continue;
        }
        const bool after_colon = i > 0 && q[i - 1] == ':';
        if (c == ':' && !after_colon && i + 1 < q.size() && name_start(q[i + 1])) {
            std::size_t end = i + 1;
            while (end < q.size() && name_char(q[end])) {
                ++end;
            }
            std::string name(q.substr(i + 1, end - i - 1));
            for (char& ch : name) {
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            const auto it = values.find(name);
            if (it == values.end()) {
                std::string known;
                for (const auto& [k, v] : values) {
                    known += (known.empty() ? "" : ", ") + (":" + k);
                }
                return core::error::permanent("the source query uses :" + name +
                                              ", which is not a task value (known: " + known + ")");
            }
            out += it->second ? literal(*it->second, engine) : "NULL";
            i = end;
            continue;
        }
        out += c;
        ++i;
    }
    return out;
}

core::result<void> base_request(const config::copy_spec& spec,
                                const std::map<std::string, std::optional<std::string>>& values,
                                config::connection_type engine, connectors::read_request& r) {
    // Filled in place, not returned in a result: GCC 12 misreads the move of a read_request
    // out of a result (maybe-uninitialized).
    if (spec.source.table) {
        r.table.emplace(*spec.source.table);
    }
    if (spec.source.query) {
        auto bound = bind_query_text(*spec.source.query, values, engine);
        if (!bound) {
            return bound.error();
        }
        r.query = std::move(*bound);
    }
    if (!r.table && !r.query && spec.source.path) {
        r.table.emplace(*spec.source.path);
    }
    for (const config::column_spec& c : spec.source.columns) {
        r.columns.push_back(c.name);
        r.expressions.push_back(c.expression == c.name ? std::nullopt
                                                       : std::optional<std::string>(c.expression));
    }
    r.order_by = spec.source.cursor;
    if (spec.source.records) {
        r.records_field = *spec.source.records;
    }
    if (spec.source.next_page) {
        r.next_page_field = *spec.source.next_page;
    }
    r.limits.max_rows = static_cast<std::size_t>(spec.batch_rows);
    return {};
}

}  // namespace sluice::etl
