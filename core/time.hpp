#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace date {
class time_zone;
}

namespace sluice::core {

using sys_seconds = std::chrono::sys_seconds;

// Parses an RFC 3339 timestamp: "2026-03-29T01:30:00Z", "2026-03-29T03:00:00+02:00",
// optional fractional seconds (truncated), 't'/'z' accepted, a space allowed for 'T'.
result<sys_seconds> parse_rfc3339(std::string_view text);

// "2026-03-29T01:30:00Z".
std::string format_rfc3339_utc(sys_seconds t);

// The instant in the given zone with its numeric offset: "2026-03-29T03:00:00+02:00"; a zero
// offset prints "+00:00". A null zone means UTC.
std::string format_rfc3339(sys_seconds t, const date::time_zone* zone);

// Looks up an IANA zone name in the system tzdata; an error names the zone, with the zone meant
// when suggest_time_zone finds one.
result<const date::time_zone*> find_time_zone(std::string_view name);

// The zone a name that is not one probably means: the same name in other case
// ("europe/berlin"), or the zone whose city it names ("Berlin" -> "Europe/Berlin", "new york"
// -> "America/New_York"). nullopt when there is none (or no tz database).
std::optional<std::string> suggest_time_zone(std::string_view name);

}  // namespace sluice::core
