#pragma once

#include <functional>
#include <map>
#include <memory>

#include "config/spec.hpp"
#include "connectors/sink.hpp"
#include "connectors/source.hpp"
#include "core/error.hpp"

namespace sluice::connectors {

using source_factory =
    std::function<core::result<std::unique_ptr<source>>(const config::connection_spec&)>;
using sink_factory =
    std::function<core::result<std::unique_ptr<sink>>(const config::connection_spec&)>;

// Sources and sinks by connection type. Filled explicitly by daemon/
// (register_builtin_connectors), never by static self-registration; etl/ only sees the
// interfaces. A type may have a source, a sink, or both (http has only a source).
class connector_registry {
public:
    // Registering a type's source (or sink) twice is a programmer error (std::logic_error).
    void add_source(config::connection_type type, source_factory factory);
    void add_sink(config::connection_type type, sink_factory factory);

    // Connects; a permanent error naming the connection when its type has no source (sink).
    core::result<std::unique_ptr<source>> open_source(const config::connection_spec& spec) const;
    core::result<std::unique_ptr<sink>> open_sink(const config::connection_spec& spec) const;

    bool has_source(config::connection_type type) const { return sources_.contains(type); }
    bool has_sink(config::connection_type type) const { return sinks_.contains(type); }

private:
    std::map<config::connection_type, source_factory> sources_;
    std::map<config::connection_type, sink_factory> sinks_;
};

// Registers postgres, mysql, clickhouse, sqlite and file sources and sinks, and the http source.
void register_builtin_connectors(connector_registry& registry);

}  // namespace sluice::connectors
