#include "daemon/load_config.hpp"

#include <iostream>

#include "config/loader.hpp"

namespace sluice::daemon {

std::optional<config::sluice_config> load_config_or_report(const std::string& file,
                                                           const std::string& environment) {
    config::load_options load;
    load.environment = environment;
    config::load_result result = config::load_file(file, load);
    for (const auto& d : result.diagnostics) {
        std::cerr << config::format_diagnostic(d) << "\n";
    }
    if (!result.config) {
        const auto n = result.diagnostics.size();
        std::cerr << n << (n == 1 ? " error" : " errors") << " in " << file << "\n";
        return std::nullopt;
    }
    return std::move(result.config);
}

std::string store_url(const config::store_spec& spec) {
    if (spec.kind == config::store_kind::sqlite) {
        return "sqlite://" + spec.sqlite_path.string();
    }
    return spec.url;
}

store::store_options store_options_of(const config::store_spec& spec) {
    return store::store_options{.pool_size = static_cast<std::size_t>(spec.pool_size),
                                .timeout = spec.timeout};
}

}  // namespace sluice::daemon
