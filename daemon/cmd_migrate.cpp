#include <iostream>

#include "core/redact.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "store/open_store.hpp"

namespace sluice::daemon {

int run_migrate(const migrate_options& options) {
    const auto cfg = load_config_or_report(options.config_file, options.environment);
    if (!cfg) {
        return exit_invalid;
    }
    const std::string url = store_url(cfg->store);
    const std::string shown = core::redact_url(url);
    auto store = store::open_store(url, store_options_of(cfg->store));
    if (!store) {
        std::cerr << "sluice: cannot open the store " << shown << ": " << store.error().message
                  << "\n";
        return exit_invalid;
    }
    auto before = (*store)->schema_version();
    if (!before) {
        std::cerr << "sluice: cannot read the schema version of " << shown << ": "
                  << before.error().message << "\n";
        return exit_invalid;
    }
    if (auto migrated = (*store)->migrate(); !migrated) {
        std::cerr << "sluice: migrating " << shown << " failed (nothing of the failed version "
                  << "was applied): " << migrated.error().message << "\n";
        return exit_invalid;
    }
    auto after = (*store)->schema_version();
    if (!after) {
        std::cerr << "sluice: cannot read the schema version of " << shown << ": "
                  << after.error().message << "\n";
        return exit_invalid;
    }
    if (*after == *before) {
        std::cout << "store " << shown << " is up to date at schema version " << *after << "\n";
    } else {
        std::cout << "store " << shown << " migrated from schema version " << *before << " to "
                  << *after << "\n";
    }
    return exit_ok;
}

}  // namespace sluice::daemon
