#pragma once

#include <memory>

#include "config/spec.hpp"
#include "connectors/sink.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

// PostgreSQL through libpq: reads stream `COPY (SELECT ...) TO STDOUT`, writes use
// `COPY ... FROM STDIN` (upserts through a temporary staging table and INSERT ... ON CONFLICT).
// The session runs with TimeZone=UTC, DateStyle=ISO and extra_float_digits=3.
core::result<std::unique_ptr<source>> open_postgres_source(const config::connection_spec& spec);
core::result<std::unique_ptr<sink>> open_postgres_sink(const config::connection_spec& spec);

}  // namespace sluice::connectors
