#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::connectors {

// The portable column types every source produces and every sink accepts (docs/etl.md, "Type
// mapping"). Each engine maps its own types onto these; a cell always holds the canonical text
// of its type (see row_batch.hpp), so converting between engines is a text rewrite at most.
enum class column_type {
    boolean,  // "true" | "false"
    int16,    // decimal digits, optional '-'
    int32,
    int64,
    decimal,  // exact: "-123.4500", no exponent; precision/scale when the source knows
    float32,  // shortest round-trip text; "NaN", "Infinity", "-Infinity"
    float64,
    text,          // UTF-8, any character including tab, newline, backslash
    bytes,         // raw bytes, zeros included
    date,          // "YYYY-MM-DD"
    timestamp,     // "YYYY-MM-DD HH:MM:SS[.ffffff]", no zone (wall clock)
    timestamp_tz,  // same text, always in UTC: an instant
    json,          // JSON text
};

// The spelling in messages and docs ("int64", "timestamp_tz", ...).
std::string_view to_string(column_type t);
// The type named by to_string(); nullopt for anything else.
std::optional<column_type> column_type_from_string(std::string_view name);

// One column of a source's result or a sink's table.
struct column {
    std::string name;
    column_type type = column_type::text;
    bool nullable = true;
    int precision = 0;  // decimal only; 0 = unknown (a sink picks its widest exact decimal)
    int scale = 0;      // decimal only
    // The engine's own declaration ("numeric(12,2)", "Nullable(DateTime('UTC'))"), for messages.
    std::string native_type;

    bool operator==(const column&) const = default;
};

// The columns of a result or table, in order.
struct schema {
    std::vector<column> columns;

    // The index of the column named `name` (exact match), nullopt when absent.
    std::optional<std::size_t> index_of(std::string_view name) const;
};

}  // namespace sluice::connectors
