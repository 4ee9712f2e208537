#pragma once

#include <memory>

#include "config/spec.hpp"
#include "connectors/sink.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

// ClickHouse over its HTTP interface (http_client): reads stream FORMAT
// TabSeparatedWithNamesAndTypes, writes POST `INSERT ... FORMAT TabSeparated` in one block per
// batch. Tables are created as ReplacingMergeTree ORDER BY the key (MergeTree without a key) with
// a `sluice:TYPE` comment per column; errors carry the server's "Code: N" and are classified by
// clickhouse_errors.hpp. No transactions (transactional() is false).
core::result<std::unique_ptr<source>> open_clickhouse_source(const config::connection_spec& spec);
core::result<std::unique_ptr<sink>> open_clickhouse_sink(const config::connection_spec& spec);

}  // namespace sluice::connectors
