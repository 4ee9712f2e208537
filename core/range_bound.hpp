#pragma once

#include <string_view>

#include "core/time.hpp"

namespace sluice::core {

// An RFC 3339 instant, or a date alone ("2026-12-06") meaning midnight of that day in `zone`
// (null: UTC), as people type range bounds (docs/cli.md, docs/api.md#backfills). A midnight that
// a DST change skips is the first instant after the gap; a repeated one is the earlier.
result<sys_seconds> parse_instant_or_date(std::string_view text, const date::time_zone* zone);

}  // namespace sluice::core
