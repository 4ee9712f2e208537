#pragma once

// Several executions of one single-row UPDATE as one statement (PostgreSQL): the statement's
// parameters become arrays, unnested into a row source the UPDATE joins on the row id, and
// RETURNING id tells which rows passed their fences. Only for batches in which no row is updated
// twice, so that the order of the UPDATEs does not matter (pipeline_connection decides). Pure
// text and value transformations, testable without a server.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql/sql_engine.hpp"

namespace sluice::store::postgres {

// What merging needs to know about a single-row UPDATE.
struct update_shape {
    std::string table;
    std::size_t id_param = 0;  // 0-based index of the parameter in `WHERE id = $N`
    std::size_t params = 0;    // the highest $N
    std::string merged_sql;    // the array form: $N is the array of the members' N-th values
};

// The shape of `UPDATE table SET ... WHERE id = $N ...` (exactly one WHERE, no RETURNING, no
// FROM, parameters $1..$n all used as values); nullopt for any other statement.
std::optional<update_shape> shape_of_update(std::string_view sql);

// The array type of a parameter's element type (pg_type OIDs of the built-in types our
// statements use); nullopt when unknown, which keeps the statement unmerged.
std::optional<unsigned> array_type_of(unsigned element_type);

// The text form of a one-dimensional array of the members' values (NULLs included), as
// array_in reads it: every element double-quoted with '"' and '\' escaped.
std::string array_literal(std::span<const sql_value* const> values);

}  // namespace sluice::store::postgres
