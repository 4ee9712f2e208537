#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql/sql_engine.hpp"

namespace sluice::store {

// One schema version: statements applied together in one transaction, then recorded in
// schema_migrations. Versions are never edited once released; a change is a new version.
struct migration {
    int version = 0;
    std::string_view name;
    std::vector<std::string> statements;  // already in the engine's dialect
};

// The event kinds written on the dispatch hot path (five rows per single-task run), as an SQL
// list. Since migration 6 the (kind, id) index leaves them out: it serves reads of the rare
// kinds, while a read of these walks the primary key, where they are dense.
inline constexpr std::string_view hot_event_kinds = "('task.state', 'run.state')";

// Every migration, oldest first, spelled for one engine. Both engines get the same logical
// schema: ids are 64-bit integers, times are integer microseconds since the Unix epoch (UTC),
// JSON is TEXT on SQLite and JSONB on PostgreSQL, flags are INTEGER 0/1 vs BOOLEAN.
std::vector<migration> migrations_for(sql_dialect dialect);

// Applies the migrations not yet recorded, each in its own transaction. On PostgreSQL an advisory
// lock serializes concurrent migrators (several instances starting at once). Re-running is a
// no-op.
core::result<void> apply_migrations(sql_engine& engine);

// The newest applied version; 0 on an empty database.
core::result<int> current_schema_version(sql_engine& engine);

}  // namespace sluice::store
