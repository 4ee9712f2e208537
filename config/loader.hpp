#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/spec.hpp"

namespace sluice::config {

struct load_options {
    // "" = the base configuration only; otherwise the environment overlay to merge ("prod").
    std::string environment;
    // Resolves ${env:NAME}; when empty, the process environment (::getenv) is used.
    std::function<std::optional<std::string>(const std::string&)> getenv;
};

struct load_result {
    // Set only when `diagnostics` is empty.
    std::optional<sluice_config> config;
    // Every error found, sorted by file (base file first, then its overlay), line and column.
    std::vector<diagnostic> diagnostics;
};

// Reads, merges (environment overlay), interpolates and validates a configuration file. Never
// throws for a bad configuration: every problem becomes a diagnostic.
load_result load_file(const std::filesystem::path& path, const load_options& options);

// The same for text already in memory; `file_name` names it in diagnostics, and its directory is
// the base for relative paths (${file:...}, sql files, SQLite paths). Only the `environments:`
// section can provide overlays here (sibling overlay files need load_file).
load_result load_string(std::string_view yaml, const std::string& file_name,
                        const load_options& options);

}  // namespace sluice::config
