#pragma once

#include <memory>
#include <string_view>

#include "core/error.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::store {

// Opens the store a `store.url` names: "sqlite://PATH", "postgresql://..." or "postgres://...".
// The store is not migrated yet: the caller runs migrate(). An unknown scheme is a permanent
// error naming the accepted ones (the URL in messages has its password redacted).
core::result<std::unique_ptr<scheduler::run_store>> open_store(std::string_view url);

}  // namespace sluice::store
