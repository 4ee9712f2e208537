#include "connectors/column_type.hpp"

#include <array>
#include <utility>

namespace sluice::connectors {

namespace {

constexpr std::array<std::pair<column_type, std::string_view>, 13> names{{
    {column_type::boolean, "boolean"},
    {column_type::int16, "int16"},
    {column_type::int32, "int32"},
    {column_type::int64, "int64"},
    {column_type::decimal, "decimal"},
    {column_type::float32, "float32"},
    {column_type::float64, "float64"},
    {column_type::text, "text"},
    {column_type::bytes, "bytes"},
    {column_type::date, "date"},
    {column_type::timestamp, "timestamp"},
    {column_type::timestamp_tz, "timestamp_tz"},
    {column_type::json, "json"},
}};

}  // namespace

std::string_view to_string(column_type t) {
    for (const auto& [type, name] : names) {
        if (type == t) {
            return name;
        }
    }
    return "?";
}

std::optional<column_type> column_type_from_string(std::string_view name) {
    for (const auto& [type, n] : names) {
        if (n == name) {
            return type;
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> schema::index_of(std::string_view name) const {
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].name == name) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace sluice::connectors
