#include "connectors/sql_script.hpp"

namespace sluice::connectors {

core::result<std::vector<sql_value>> bind_statement(const sql_statement& statement,
                                                    const bind_values& values,
                                                    std::size_t statement_number) {
    std::vector<sql_value> out;
    out.reserve(statement.params.size());
    for (const auto& name : statement.params) {
        const auto it = values.find(name);
        if (it == values.end()) {
            std::string known;
            for (const auto& [key, value] : values) {
                known += (known.empty() ? ":" : ", :") + key;
            }
            return core::error::permanent("unknown bind parameter ':" + name + "' in statement " +
                                          std::to_string(statement_number) + " (line " +
                                          std::to_string(statement.line) +
                                          "); available: " + known);
        }
        out.push_back(it->second);
    }
    return out;
}

std::optional<sql_dialect> dialect_of(config::connection_type type) {
    return config::sql_dialect_of(type);
}

}  // namespace sluice::connectors
