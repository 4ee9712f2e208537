#include "connectors/connector_registry.hpp"

#include <stdexcept>

#include "connectors/clickhouse/clickhouse_connector.hpp"
#include "connectors/files/file_connector.hpp"
#include "connectors/http/http_json_source.hpp"
#include "connectors/mysql/mysql_connector.hpp"
#include "connectors/postgres/postgres_connector.hpp"
#include "connectors/sqlite/sqlite_connector.hpp"

namespace sluice::connectors {

void connector_registry::add_source(config::connection_type type, source_factory factory) {
    if (!factory || !sources_.emplace(type, std::move(factory)).second) {
        throw std::logic_error("source for connection type '" +
                               std::string(config::to_string(type)) +
                               "' registered twice or empty");
    }
}

void connector_registry::add_sink(config::connection_type type, sink_factory factory) {
    if (!factory || !sinks_.emplace(type, std::move(factory)).second) {
        throw std::logic_error("sink for connection type '" + std::string(config::to_string(type)) +
                               "' registered twice or empty");
    }
}

core::result<std::unique_ptr<source>> connector_registry::open_source(
    const config::connection_spec& spec) const {
    const auto it = sources_.find(spec.type);
    if (it == sources_.end()) {
        return core::error::permanent("connection '" + spec.name + "' is a " +
                                      std::string(config::to_string(spec.type)) +
                                      " connection, which cannot be read from in this build");
    }
    return it->second(spec);
}

core::result<std::unique_ptr<sink>> connector_registry::open_sink(
    const config::connection_spec& spec) const {
    const auto it = sinks_.find(spec.type);
    if (it == sinks_.end()) {
        return core::error::permanent("connection '" + spec.name + "' is a " +
                                      std::string(config::to_string(spec.type)) +
                                      " connection, which cannot be written to");
    }
    return it->second(spec);
}

void register_builtin_connectors(connector_registry& registry) {
    using config::connection_type;
    registry.add_source(connection_type::postgres, open_postgres_source);
    registry.add_sink(connection_type::postgres, open_postgres_sink);
    registry.add_source(connection_type::mysql, open_mysql_source);
    registry.add_sink(connection_type::mysql, open_mysql_sink);
    registry.add_source(connection_type::sqlite, open_sqlite_source);
    registry.add_sink(connection_type::sqlite, open_sqlite_sink);
    registry.add_source(connection_type::clickhouse, open_clickhouse_source);
    registry.add_sink(connection_type::clickhouse, open_clickhouse_sink);
    registry.add_source(connection_type::file, open_file_source);
    registry.add_sink(connection_type::file, open_file_sink);
    registry.add_source(connection_type::http, open_http_json_source);
}

}  // namespace sluice::connectors
