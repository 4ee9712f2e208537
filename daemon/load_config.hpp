#pragma once

#include <optional>
#include <string>

#include "config/spec.hpp"
#include "store/open_store.hpp"

namespace sluice::daemon {

// Loads and validates a config with the real schedule checker; prints every diagnostic as
// FILE:LINE:COL on stderr and returns nullopt when there is any.
std::optional<config::sluice_config> load_config_or_report(const std::string& file,
                                                           const std::string& environment);

// The store URL a config names ("sqlite://PATH" with the path resolved, or the PostgreSQL URL).
std::string store_url(const config::store_spec& spec);

// The store's pool size and operation timeout from `store:`.
store::store_options store_options_of(const config::store_spec& spec);

}  // namespace sluice::daemon
