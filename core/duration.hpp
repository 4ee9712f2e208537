#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace sluice::core {

using duration = std::chrono::milliseconds;

// Parses "500ms", "90s", "15m", "2h", "1d" and concatenations such as "1h30m" (units in
// decreasing order, each at most once). A bare number is rejected: units are mandatory so that
// "30" is never ambiguous. Errors say what was expected.
result<duration> parse_duration(std::string_view text);

// The shortest exact form in the same grammar: 5400000ms -> "1h30m", 0 -> "0s".
std::string format_duration(duration d);

}  // namespace sluice::core
