#pragma once

#include <memory>

#include "config/spec.hpp"
#include "connectors/sink.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

// Files in the connection's directory (`file://DIR`); a request's table is a file name relative
// to it. CSV (RFC 4180: a header line, fields quoted with '"' when they hold a comma, quote, CR
// or LF, an empty unquoted field is NULL and "" the empty string) and JSON Lines (one object per
// line), by the connection's `format` or else the file extension (.csv; .jsonl/.ndjson/.json).
// Bytes are base64, decimals are JSON strings (exact), JSON columns are nested values. Files
// have no types: a read request's `expected` schema types the columns; without it CSV columns
// are text and JSON Lines values keep their JSON kind. Rows come in file order (order_by is not
// applied); `after` and `limit` filter while streaming. Sinks append; checkpoints live in
// DIR/.sluice_checkpoints.json, replaced atomically.
core::result<std::unique_ptr<source>> open_file_source(const config::connection_spec& spec);
core::result<std::unique_ptr<sink>> open_file_sink(const config::connection_spec& spec);

}  // namespace sluice::connectors
