#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/spec.hpp"
#include "connectors/source.hpp"
#include "core/error.hpp"

namespace sluice::etl {

// `query` with every `:name` outside quotes and comments replaced by the literal of
// values[name] (NULL when the value is nullopt), quoted for the source's engine: a source
// query is run as a subquery, so the task values (etl/task_values.hpp) are spliced in as
// literals instead of bound. '::' casts and ':=' are left alone. An unknown name is a permanent
// error listing the names that exist.
core::result<std::string> bind_query_text(
    std::string_view query, const std::map<std::string, std::optional<std::string>>& values,
    config::connection_type engine);

// The read every batch starts from: the source's table or bound query, the `columns` select
// list (sink name <- source expression), ordered by the cursor; `batch_rows` per reader batch.
core::result<void> base_request(const config::copy_spec& spec,
                                const std::map<std::string, std::optional<std::string>>& values,
                                config::connection_type engine, connectors::read_request& out);

}  // namespace sluice::etl
