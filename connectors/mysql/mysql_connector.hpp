#pragma once

#include <memory>

#include "config/spec.hpp"
#include "connectors/sink.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

// MySQL / MariaDB through MariaDB Connector/C: reads stream with mysql_use_result (never the
// whole table), writes are multi-row INSERTs up to max_allowed_packet (upserts: ON DUPLICATE
// KEY UPDATE). The session runs with time_zone '+00:00'.
core::result<std::unique_ptr<source>> open_mysql_source(const config::connection_spec& spec);
core::result<std::unique_ptr<sink>> open_mysql_sink(const config::connection_spec& spec);

}  // namespace sluice::connectors
