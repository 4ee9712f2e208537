#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "connectors/column_type.hpp"
#include "connectors/row_batch.hpp"
#include "connectors/source.hpp"
#include "core/error.hpp"

// Rows of untyped documents (CSV fields, JSON values) to and from canonical cells: shared by the
// file connector and the HTTP JSON source.
namespace sluice::connectors {

// A JSON document read from a source (an HTTP page, a JSON-lines record, a json cell). Refused
// when it nests deeper than core::max_json_depth: copying or dumping a value recurses once per
// level, so a hostile API or file could otherwise crash the daemon. The error says which.
core::result<nlohmann::ordered_json> parse_document(std::string_view text);

// Appends a cell from the text a file holds for a `type` column: base64 for bytes, any boolean
// spelling, timestamps with 'T'/'Z'. Text that does not decode (bad base64) is kept as is.
void add_document_text(row_batch& out, std::string_view text, column_type type);

// Appends a cell from a JSON value: null is NULL; objects and arrays become their JSON text;
// numbers keep their text; strings decode as add_document_text.
void add_json_value(row_batch& out, const nlohmann::ordered_json& value, column_type type);

// The JSON value of a cell: integers, finite floats and booleans as JSON numbers/booleans,
// decimals as strings (exact), bytes base64, json columns as nested values (as a string when
// the text is not JSON or nests too deep), the rest strings.
nlohmann::ordered_json json_value_of(std::string_view cell, column_type type);

// The columns of a JSON object: its keys in order, typed by `expected` when it names them, else
// by the value's kind (integer int64, float float64, boolean, object/array json, else text).
schema schema_of_object(const nlohmann::ordered_json& object,
                        const std::optional<schema>& expected);

// <0, 0, >0 as canonical `a` sorts before, with or after `b` (numbers numerically, the rest
// byte-wise, which orders canonical dates and timestamps).
int compare_canonical(std::string_view a, std::string_view b, column_type type);

// True when the row passes the request's `after` bound (columns missing from the row's schema
// fail it; NULL sorts first).
bool passes_after(const read_request& request, const schema& columns, const row_batch& rows,
                  std::size_t row);

}  // namespace sluice::connectors
