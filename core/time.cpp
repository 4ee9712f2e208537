#include "core/time.hpp"

#include <cctype>
#include <cstdio>
#include <stdexcept>

#include <date/date.h>
#include <date/tz.h>

#include "core/range_bound.hpp"
#include "core/zone_offsets.hpp"

namespace sluice::core {
namespace {

bool read_digits(std::string_view s, std::size_t& pos, std::size_t count, int& out) {
    if (pos + count > s.size()) {
        return false;
    }
    int v = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    pos += count;
    out = v;
    return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

std::string offset_suffix(std::chrono::seconds offset) {
    if (offset.count() == 0) {
        return "+00:00";
    }
    const char sign = offset.count() < 0 ? '-' : '+';
    const long long total = offset.count() < 0 ? -offset.count() : offset.count();
    char buf[32];
    if (total % 60 != 0) {
        std::snprintf(buf, sizeof buf, "%c%02lld:%02lld:%02lld", sign, total / 3600,
                      (total / 60) % 60, total % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", sign, total / 3600, (total / 60) % 60);
    }
    return buf;
}

}  // namespace

result<sys_seconds> parse_rfc3339(std::string_view s) {
    const auto bad = [&](const char* why) {
        // Cut: the text may come from a request body.
        const std::string shown =
            s.size() > 64 ? std::string(s.substr(0, 64)) + "..." : std::string(s);
        return error::permanent(
            "invalid RFC 3339 timestamp '" + shown + "': " + why +
            " (expected e.g. 2026-03-29T01:30:00Z or 2026-03-29T03:00:00+02:00)");
    };
    std::size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) ||
        !expect(s, pos, '-') || !read_digits(s, pos, 2, d)) {
        return bad("bad date");
    }
    if (!(expect(s, pos, 'T') || expect(s, pos, 't') || expect(s, pos, ' '))) {
        return bad("missing 'T' between date and time");
    }
    if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi) ||
        !expect(s, pos, ':') || !read_digits(s, pos, 2, sec)) {
        return bad("bad time of day");
    }
    if (expect(s, pos, '.')) {
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            ++pos;
        }
        if (pos == start) {
            return bad("empty fraction of a second");
        }
    }
    int offset_seconds = 0;
    if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
        offset_seconds = 0;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        const int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0, om = 0;
        if (!read_digits(s, pos, 2, oh) || !expect(s, pos, ':') || !read_digits(s, pos, 2, om) ||
            oh > 23 || om > 59) {
            return bad("bad UTC offset");
        }
        offset_seconds = sign * (oh * 3600 + om * 60);
    } else {
        return bad("missing UTC offset ('Z' or +HH:MM)");
    }
    if (pos != s.size()) {
        return bad("trailing characters");
    }
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) {
        return bad("no such calendar date");
    }
    if (h > 23 || mi > 59 || sec > 60) {
        return bad("time of day out of range");
    }
    // A leap second (:60) is folded onto the next second, as POSIX time does.
    const sys_seconds local = date::sys_days{ymd} + std::chrono::hours{h} +
                              std::chrono::minutes{mi} + std::chrono::seconds{sec};
    return local - std::chrono::seconds{offset_seconds};
}

result<sys_seconds> parse_instant_or_date(std::string_view text, const date::time_zone* zone) {
    std::size_t pos = 0;
    int y = 0, mo = 0, d = 0;
    if (text.size() != 10 || !read_digits(text, pos, 4, y) || !expect(text, pos, '-') ||
        !read_digits(text, pos, 2, mo) || !expect(text, pos, '-') ||
        !read_digits(text, pos, 2, d)) {
        return parse_rfc3339(text);
    }
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) {
        return error::permanent("invalid date '" + std::string(text) +
                                "': no such calendar date (expected e.g. 2026-12-06)");
    }
    const sys_seconds midnight = date::sys_days{ymd};
    if (zone == nullptr) {
        return midnight;
    }
    const std::int64_t local = midnight.time_since_epoch().count();
    const local_resolution r = resolve_local(zone, local, offset_at(zone, midnight));
    if (r.what == local_resolution::kind::nonexistent) {
        return r.second.begin;
    }
    return midnight - r.first.offset;
}

std::string format_rfc3339_utc(sys_seconds t) {
    return date::format("%Y-%m-%dT%H:%M:%SZ", t);
}

std::string format_rfc3339(sys_seconds t, const date::time_zone* zone) {
    if (zone == nullptr) {
        return date::format("%Y-%m-%dT%H:%M:%S+00:00", t);
    }
    // offset_at, not zone->get_info: it keeps following DST rules after 2037.
    const std::chrono::seconds offset = offset_at(zone, t).offset;
    return date::format("%Y-%m-%dT%H:%M:%S", t + offset) + offset_suffix(offset);
}

result<const date::time_zone*> find_time_zone(std::string_view name) {
    try {
        return date::locate_zone(std::string(name));
    } catch (const std::runtime_error&) {
        const auto meant = suggest_time_zone(name);
        return error::permanent("unknown time zone '" + std::string(name) + "'" +
                                (meant ? "; did you mean '" + *meant + "'?" : std::string()) +
                                " (expected an IANA name such as UTC, Europe/Berlin or "
                                "America/New_York)");
    }
}

std::optional<std::string> suggest_time_zone(std::string_view name) {
    // Folded for comparison: lower case, blanks as '_' (zone names spell "New_York").
    auto fold = [](std::string_view text) {
        std::string out;
        for (const char c : text) {
            out += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return out;
    };
    const std::string wanted = fold(name);
    if (wanted.empty()) {
        return std::nullopt;
    }
    try {
        const auto& db = date::get_tzdb();
        std::optional<std::string> by_city;
        for (const auto& z : db.zones) {
            const std::string folded = fold(z.name());
            if (folded == wanted) {
                return z.name();
            }
            const auto slash = folded.rfind('/');
            if (!by_city && slash != std::string::npos && folded.substr(slash + 1) == wanted) {
                by_city = z.name();
            }
        }
        return by_city;
    } catch (const std::runtime_error&) {
        return std::nullopt;  // no readable tz database: no suggestion
    }
}

}  // namespace sluice::core
