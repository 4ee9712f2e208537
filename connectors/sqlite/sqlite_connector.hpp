#pragma once

#include <memory>

#include "config/spec.hpp"
#include "connectors/sink.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

// SQLite files (the connection's local_path), opened in WAL mode so a read in progress does not
// block a sink's commit. Portable types are kept in the declared column types (docs/etl.md).
core::result<std::unique_ptr<source>> open_sqlite_source(const config::connection_spec& spec);
core::result<std::unique_ptr<sink>> open_sqlite_sink(const config::connection_spec& spec);

}  // namespace sluice::connectors
