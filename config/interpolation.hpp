#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// ${env:NAME} and ${file:PATH} expansion inside scalar strings. Internal to config/.
namespace sluice::config {

// A ${file:...} read, kept for the rest of the load: a file named by many scalars (or by one
// scalar repeated through YAML aliases) is read once.
struct file_read {
    std::optional<std::string> content;
    std::string error;
};
using file_cache = std::map<std::filesystem::path, file_read>;

struct interpolation_source {
    std::function<std::optional<std::string>(const std::string&)> getenv;
    std::filesystem::path base_dir;  // ${file:PATH} with a relative PATH resolves here
    file_cache* files = nullptr;     // optional cache shared by one load
    // Bound on the expanded text of this call; beyond it the expansion fails.
    std::size_t max_output_bytes = std::size_t(-1);
};

// An error at byte `offset` of the raw text (the start of the placeholder). Messages name the
// placeholder, never the value it would expand to.
struct interpolation_error {
    std::size_t offset = 0;
    std::string message;
};

struct interpolation_result {
    std::string text;
    bool interpolated = false;  // at least one placeholder was expanded: the text is secret
    std::vector<interpolation_error> errors;
};

// Bound on the text all placeholders of one load expand to (aliases can repeat a placeholder).
inline constexpr std::size_t max_interpolated_bytes = 16 * 1024 * 1024;

// Bound on a ${file:...} read: secrets are small, and this keeps /dev/zero-like files harmless.
inline constexpr std::size_t max_interpolated_file_bytes = 1024 * 1024;

// Expands every placeholder of `raw`. "$${" is a literal "${"; any other "${" (a shell
// "${HOME}", say) is kept as written. ${file:PATH} drops one trailing newline of the file.
interpolation_result interpolate(std::string_view raw, const interpolation_source& source);

// True when `raw` holds a placeholder or an escape that interpolate() would rewrite.
bool needs_interpolation(std::string_view raw);

}  // namespace sluice::config
