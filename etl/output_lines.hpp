#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

// Turning a child's output bytes into log lines and metrics.
namespace sluice::etl {

// A line longer than this is cut into pieces of this size, so one runaway line (a binary dump,
// a progress bar without '\n') cannot grow memory without bound.
inline constexpr std::size_t max_line_bytes = 64 * 1024;

// Splits one output stream into lines. A trailing '\r' is dropped ("\r\n" endings); a final
// line without '\n' comes out of finish().
class line_splitter {
public:
    using line_sink = std::function<void(std::string line)>;

    explicit line_splitter(line_sink sink, std::size_t max_line = max_line_bytes);

    // Feeds bytes as they were read; calls the sink for every complete (or cut) line.
    void feed(std::string_view bytes);
    // Flushes a pending partial line at end of stream.
    void finish();

private:
    void emit();

    line_sink sink_;
    std::size_t max_line_;
    std::string pending_;
};

struct metric_sample {
    std::string name;
    double value = 0;
};

// The prefix of a metric line: `::sluice metric NAME=VALUE`.
inline constexpr std::string_view metric_prefix = "::sluice metric ";

// Reads `::sluice metric NAME=VALUE` (surrounding blanks ignored): NAME is letters, digits, '_',
// '.', '-' starting with a letter or '_'; VALUE a finite decimal number. nullopt for any other
// line, including a malformed metric line (is_metric_line tells those apart).
std::optional<metric_sample> parse_metric_line(std::string_view line);

// True when the line starts with the metric prefix (after leading blanks), well-formed or not.
bool is_metric_line(std::string_view line);

}  // namespace sluice::etl
