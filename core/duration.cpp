#include "core/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace sluice::core {
namespace {

struct unit {
    std::string_view suffix;
    std::int64_t millis;
};

// Ordered largest first; "ms" is listed before "m" would be matched by the suffix scan below.
constexpr std::array<unit, 5> units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::string_view grammar = "expected a duration such as 500ms, 90s, 15m, 2h, 1d or 1h30m";

}  // namespace

result<duration> parse_duration(std::string_view text) {
    if (text.empty()) {
        return error::permanent(std::string("empty duration; ") + std::string(grammar));
    }
    std::int64_t total = 0;
    std::size_t last_unit = 0;  // index into units + 1 of the previous component
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (text[pos] < '0' || text[pos] > '9') {
            return error::permanent("invalid duration '" + std::string(text) +
                                    "': " + std::string(grammar));
        }
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
        if (ec != std::errc{} || end == text.data() + pos) {
            return error::permanent("invalid duration '" + std::string(text) +
                                    "': " + std::string(grammar));
        }
        pos = static_cast<std::size_t>(end - text.data());
        std::size_t unit_index = units.size();
        if (text.substr(pos, 2) == "ms") {
            unit_index = 4;
        } else if (pos < text.size()) {
            for (std::size_t i = 0; i < 4; ++i) {
                if (text[pos] == units[i].suffix[0]) {
                    unit_index = i;
                }
            }
        }
        if (unit_index == units.size()) {
            return error::permanent("invalid duration '" + std::string(text) +
                                    "': missing or unknown unit; " + std::string(grammar));
        }
        if (unit_index + 1 <= last_unit) {
            return error::permanent("invalid duration '" + std::string(text) +
                                    "': units must appear once each, largest first");
        }
        last_unit = unit_index + 1;
        pos += units[unit_index].suffix.size();
        const std::int64_t scale = units[unit_index].millis;
        if (value > (std::numeric_limits<std::int64_t>::max() - total) / scale) {
            return error::permanent("duration '" + std::string(text) + "' is too large");
        }
        total += value * scale;
    }
    return duration{total};
}

std::string format_duration(duration d) {
    std::int64_t ms = d.count();
    if (ms == 0) {
        return "0s";
    }
    std::string out;
    if (ms < 0) {
        out += '-';
        ms = -ms;
    }
    for (const unit& u : units) {
        if (ms >= u.millis) {
            out += std::to_string(ms / u.millis);
            out += u.suffix;
            ms %= u.millis;
        }
    }
    return out;
}

}  // namespace sluice::core
