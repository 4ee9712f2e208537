#pragma once

#include <chrono>
#include <cstdint>

namespace date {
class time_zone;
}

namespace sluice::core {

// The UTC offset in force over [begin, end). Open ends are clamped to +-2^50 s so that callers
// can add a day or two without overflow.
struct offset_span {
    std::chrono::sys_seconds begin;
    std::chrono::sys_seconds end;
    std::chrono::seconds offset;
};

// The offset of `zone` at `t` (nullptr = UTC).
//
// Why not date::time_zone::get_info alone: built with USE_OS_TZDB, date 3.0 reads only the
// transitions stored in the TZif file (Debian's files stop in 2037) and ignores the POSIX TZ rule
// in the file's footer, so DST would stop happening in 2038. After the last stored transition
// this function follows that rule, as glibc, ICU and Python's zoneinfo do.
offset_span offset_at(const date::time_zone* zone, std::chrono::sys_seconds t);

// How a local wall-clock time (seconds since 1970-01-01T00:00 local) maps onto instants.
struct local_resolution {
    enum class kind { unique, nonexistent, ambiguous };
    kind what = kind::unique;
    offset_span first;  // unique: its span; ambiguous: the earlier one; nonexistent: before the gap
    offset_span second;  // ambiguous: the later one; nonexistent: after the gap (begins at its end)
};

// Resolves a local time. `hint` is any span of the same zone near the answer (usually the span
// of the instant the search started from); when the local time lies well inside it, no lookup is
// needed, which keeps next() fast.
local_resolution resolve_local(const date::time_zone* zone, std::int64_t local,
                               const offset_span& hint);

}  // namespace sluice::core
