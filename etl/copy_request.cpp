#include "etl/copy_request.hpp"

#include "config/sql_text.hpp"

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

}  // namespace

core::result<std::string> bind_query_text(
    std::string_view q, const std::map<std::string, std::optional<std::string>>& values,
    config::connection_type engine) {
    const auto dialect = config::sql_dialect_of(engine);
    if (!dialect) {
        return std::string(q);  // not a SQL source: nothing to bind
    }
    // The lexer of sql tasks and of validation, so the three agree on what is a parameter.
    auto found = config::find_sql_placeholders(q, *dialect);
    if (!found) {
        return core::error::permanent("the source query: " + found.error().message);
    }
    std::string out;
    out.reserve(q.size());
    std::size_t copied = 0;
    for (const config::sql_placeholder& p : *found) {
        const auto it = values.find(p.name);
        if (it == values.end()) {
            std::string known;
            for (const auto& [k, v] : values) {
                known += (known.empty() ? "" : ", ") + (":" + k);
            }
            return core::error::permanent("the source query uses :" + p.name +
                                          ", which is not a task value (known: " + known + ")");
        }
        out.append(q.substr(copied, p.offset - copied));
        out += it->second ? literal(*it->second, engine) : "NULL";
        copied = p.offset + p.length;
    }
    out.append(q.substr(copied));
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
