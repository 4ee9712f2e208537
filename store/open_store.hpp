#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "core/error.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::store {

// How a PostgreSQL store connects (`store:` in the config; SQLite ignores both).
struct store_options {
    std::size_t pool_size = 4;  // pooled connections, besides the group commit's own
    // Bound on every operation: a transaction or commit without an answer by then is abandoned
    // (its connection closed) and fails transient (docs/operations.md#store-outages).
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// Opens the store a `store.url` names: "sqlite://PATH", "postgresql://..." or "postgres://...".
// The store is not migrated yet: the caller runs migrate(). An unknown scheme is a permanent
// error naming the accepted ones (the URL in messages has its password redacted).
core::result<std::unique_ptr<scheduler::run_store>> open_store(std::string_view url,
                                                               const store_options& options = {});

}  // namespace sluice::store
