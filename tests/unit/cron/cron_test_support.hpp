#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/cron/cron_expression.hpp"

namespace date {
class time_zone;
}

namespace sluice::scheduler::testing {

// The tz database zone, failing the test on a typo. "UTC" gives nullptr (the engine's UTC path).
const date::time_zone* zone(std::string_view name);

std::chrono::sys_seconds at(std::string_view rfc3339);

// The instant as local time with its offset in `zone`, e.g. "2026-03-08T03:00:00-04:00".
std::string local(std::chrono::sys_seconds t, const date::time_zone* zone);

// The next `n` fire times after `from`, formatted by local(); fewer when the schedule ends.
std::vector<std::string> fires(std::string_view expr, std::string_view zone_name,
                               std::string_view from, int n);

cron_expression parsed(std::string_view expr);
cron_parse_error parse_error(std::string_view expr);

}  // namespace sluice::scheduler::testing
