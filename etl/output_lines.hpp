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
    // Lines that start with `long_prefix` may be up to `long_max` bytes (a shell task's output
    // lines, whose value may take max_line by itself); every other line is cut at `max_line`.
    line_splitter(line_sink sink, std::size_t max_line, std::string_view long_prefix,
                  std::size_t long_max);

    // Feeds bytes as they were read; calls the sink for every complete (or cut) line.
    void feed(std::string_view bytes);
    // Flushes a pending partial line at end of stream.
    void finish();

private:
    void emit();
    // The bound of the line being read, given the bytes that come next.
    std::size_t bound_for(std::string_view next) const;

    line_sink sink_;
    std::size_t max_line_;
    std::string long_prefix_;
    std::size_t long_max_ = 0;
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

// The prefix of an output line: `::sluice output NAME=VALUE`
// (docs/task-kinds.md#values-between-tasks).
inline constexpr std::string_view output_prefix = "::sluice output ";

// How long a shell task's output line (one starting with output_prefix) may be: the bound of a
// log line plus room for the prefix and a name, so a value of config::max_output_value_bytes
// arrives whole. Other lines are cut at max_line_bytes.
inline constexpr std::size_t max_output_line_bytes = max_line_bytes + 256;

struct output_value {
    std::string name;
    std::string value;
};

// Reads `::sluice output NAME=VALUE`: leading blanks and blanks around NAME are ignored; VALUE
// is everything after the first '=' as is (it may be empty, hold '=' or blanks). nullopt for
// any other line. A malformed output line (a bad name, no '=') or one whose value is too long
// comes back as an error message instead.
struct output_line_result {
    std::optional<output_value> value;
    std::optional<std::string> error;
};
std::optional<output_line_result> parse_output_line(std::string_view line);

}  // namespace sluice::etl
