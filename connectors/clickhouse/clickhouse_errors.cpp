#include "connectors/clickhouse/clickhouse_errors.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace sluice::connectors {

std::optional<int> parse_clickhouse_code(std::string_view text) {
    const auto at = text.find("Code: ");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const char* begin = text.data() + at + 6;
    const char* end = text.data() + text.size();
    int code = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, code);
    if (ec != std::errc() || ptr == begin) {
        return std::nullopt;
    }
    return code;
}

core::error_class classify_clickhouse_code(int code) {
    static constexpr std::array<int, 14> transient{32,  159, 160, 202, 203, 209, 210,
                                                   242, 252, 319, 394, 425, 999, 1000};
    return std::find(transient.begin(), transient.end(), code) != transient.end()
               ? core::error_class::transient
               : core::error_class::permanent;
}

}  // namespace sluice::connectors
