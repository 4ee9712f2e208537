// libFuzzer target: arbitrary bytes as a configuration file. The loader must never crash, leak
// or hang; every input ends as a config or as diagnostics. Schedules go through the cron parser
// (which has its own fuzz target too), and ${env:...} resolves without touching the process
// environment so runs are reproducible.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const sluice::config::load_options options = [] {
        sluice::config::load_options o;
        o.getenv = [](const std::string& name) -> std::optional<std::string> {
            if (name.empty() || name[0] == 'U') {
                return std::nullopt;  // "unset"
            }
            return "value-of-" + name;
        };
        return o;
    }();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto result = sluice::config::load_string(text, "fuzz.yaml", options);
    // Invariants every caller relies on.
    if (result.config.has_value() != result.diagnostics.empty()) {
        __builtin_trap();
    }
    for (const auto& d : result.diagnostics) {
        if (d.message.empty() || sluice::config::format_diagnostic(d).empty()) {
            __builtin_trap();
        }
    }
    return 0;
}
