#include "core/zone_offsets.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <date/date.h>
#include <date/tz.h>

namespace sluice::core {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr std::int64_t open_end = std::int64_t{1} << 50;
constexpr std::int64_t day = 86400;

sys_seconds at_seconds(std::int64_t s) {
    return sys_seconds{seconds{s}};
}

std::int64_t clamp_end(std::int64_t s) {
    return std::clamp(s, -open_end, open_end);
}

// A rule date of a POSIX TZ string: "Jn" (1-365, no Feb 29), "n" (0-365) or "Mm.w.d".
struct rule_date {
    enum class form { julian_no_leap, julian, month_week_day } kind = form::month_week_day;
    int day = 0;
    int month = 0;
    int week = 0;
    int weekday = 0;
    std::int64_t time = 7200;  // local wall-clock seconds after midnight, default 02:00

    // Local midnight of the rule's date in `year`, as days since the epoch.
    std::int64_t local_day(int year) const {
        using namespace date;
        const std::int64_t jan1 = sys_days{date::year{year} / 1 / 1}.time_since_epoch().count();
        switch (kind) {
            case form::julian_no_leap: {
                const bool leap = date::year{year}.is_leap();
                return jan1 + day - 1 + (leap && day >= 60 ? 1 : 0);
            }
            case form::julian:
                return jan1 + day;
            case form::month_week_day: {
                const date::year_month ym = date::year{year} / static_cast<unsigned>(month);
                const sys_days first{ym / 1};
                const unsigned wd1 = weekday_of(first);
                const int first_match =
                    1 + static_cast<int>((static_cast<unsigned>(weekday) + 7 - wd1) % 7);
                int d = first_match + 7 * (week - 1);
                const int last_day = static_cast<int>(unsigned{(ym / date::last).day()});
                while (d > last_day) {
                    d -= 7;
                }
                return first.time_since_epoch().count() + d - 1;
            }
        }
        return jan1;
    }

    static unsigned weekday_of(date::sys_days d) { return date::weekday{d}.c_encoding(); }
};

// The daylight-saving rule of a zone's TZif footer, e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
struct posix_rule {
    std::int64_t std_offset = 0;  // east of UTC, seconds
    std::int64_t dst_offset = 0;
    bool has_dst = false;
    rule_date start;
    rule_date end;

    struct transition {
        std::int64_t at;
        std::int64_t offset;  // in force from `at`
    };

    // DST start and end of one year, in UTC.
    std::array<transition, 2> transitions(int year) const {
        const transition s{start.local_day(year) * day + start.time - std_offset, dst_offset};
        const transition e{end.local_day(year) * day + end.time - dst_offset, std_offset};
        if (s.at < e.at) {
            return {s, e};
        }
        return {e, s};
    }
};

class posix_parser {
public:
    explicit posix_parser(std::string_view s) : s_(s) {}

    std::optional<posix_rule> parse() {
        posix_rule r;
        if (!name() || !offset(r.std_offset)) {
            return std::nullopt;
        }
        r.std_offset = -r.std_offset;  // POSIX counts west of UTC as positive
        if (done()) {
            return r;
        }
        if (!name()) {
            return std::nullopt;
        }
        r.has_dst = true;
        r.dst_offset = r.std_offset + 3600;
        if (!done() && peek() != ',') {
            std::int64_t o = 0;
            if (!offset(o)) {
                return std::nullopt;
            }
            r.dst_offset = -o;
        }
        if (done()) {
            // No rule: the US rule, as POSIX specifies for a missing one.
            r.start.month = 3, r.start.week = 2, r.start.weekday = 0;
            r.end.month = 11, r.end.week = 1, r.end.weekday = 0;
            return r;
        }
        if (!eat(',') || !date_rule(r.start) || !eat(',') || !date_rule(r.end) || !done()) {
            return std::nullopt;
        }
        return r;
    }

private:
    bool done() const { return pos_ >= s_.size(); }
    char peek() const { return done() ? '\0' : s_[pos_]; }
    bool eat(char c) {
        if (peek() == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    bool name() {
        if (eat('<')) {
            while (!done() && peek() != '>') {
                ++pos_;
            }
            return eat('>');
        }
        const std::size_t start = pos_;
        while ((peek() >= 'A' && peek() <= 'Z') || (peek() >= 'a' && peek() <= 'z')) {
            ++pos_;
        }
        return pos_ - start >= 3;
    }

    bool number(std::int64_t& out) {
        if (!(peek() >= '0' && peek() <= '9')) {
            return false;
        }
        out = 0;
        while (peek() >= '0' && peek() <= '9') {
            out = out * 10 + (peek() - '0');
            ++pos_;
        }
        return true;
    }

    // [+-]hh[:mm[:ss]] in seconds, sign as written.
    bool offset(std::int64_t& out) {
        std::int64_t sign = 1;
        if (eat('-')) {
            sign = -1;
        } else {
            eat('+');
        }
        std::int64_t h = 0, m = 0, sec = 0;
        if (!number(h)) {
            return false;
        }
        if (eat(':')) {
            if (!number(m)) {
                return false;
            }
            if (eat(':') && !number(sec)) {
                return false;
            }
        }
        out = sign * (h * 3600 + m * 60 + sec);
        return true;
    }

    bool date_rule(rule_date& d) {
        std::int64_t a = 0, b = 0, c = 0;
        if (eat('J')) {
            if (!number(a) || a < 1 || a > 365) {
                return false;
            }
            d.kind = rule_date::form::julian_no_leap;
            d.day = static_cast<int>(a);
        } else if (eat('M')) {
            if (!number(a) || !eat('.') || !number(b) || !eat('.') || !number(c) || a < 1 ||
                a > 12 || b < 1 || b > 5 || c > 6) {
                return false;
            }
            d.kind = rule_date::form::month_week_day;
            d.month = static_cast<int>(a);
            d.week = static_cast<int>(b);
            d.weekday = static_cast<int>(c);
        } else {
            if (!number(a) || a > 365) {
                return false;
            }
            d.kind = rule_date::form::julian;
            d.day = static_cast<int>(a);
        }
        if (eat('/')) {
            return offset(d.time);
        }
        return true;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

std::uint32_t read_be32(const std::string& s, std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(s[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(s[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(s[at + 2])} << 8) |
           std::uint32_t{static_cast<unsigned char>(s[at + 3])};
}

// The footer of a TZif version 2+ file (RFC 8536 section 3.3), or nullopt.
std::optional<std::string> tzif_footer(const std::string& file) {
    constexpr std::size_t header = 44;
    if (file.size() < header || file.compare(0, 4, "TZif") != 0 || file[4] < '2') {
        return std::nullopt;
    }
    const auto block_size = [&](std::size_t at, std::size_t time_size) -> std::size_t {
        const std::size_t isut = read_be32(file, at + 20), isstd = read_be32(file, at + 24),
                          leap = read_be32(file, at + 28), timecnt = read_be32(file, at + 32),
                          typecnt = read_be32(file, at + 36), charcnt = read_be32(file, at + 40);
        return timecnt * time_size + timecnt + typecnt * 6 + charcnt + leap * (time_size + 4) +
               isstd + isut;
    };
    const std::size_t v2 = header + block_size(0, 4);
    if (file.size() < v2 + header) {
        return std::nullopt;
    }
    const std::size_t footer = v2 + header + block_size(v2, 8);
    if (file.size() < footer + 2 || file[footer] != '\n') {
        return std::nullopt;
    }
    const std::size_t end = file.find('\n', footer + 1);
    if (end == std::string::npos) {
        return std::nullopt;
    }
    return file.substr(footer + 1, end - footer - 1);
}

std::optional<posix_rule> load_rule(const date::time_zone* zone) {
    const char* dir = std::getenv("TZDIR");
    const std::string path =
        std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") + "/" +
        std::string(zone->name());
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto footer = tzif_footer(file);
    if (!footer || footer->empty()) {
        return std::nullopt;
    }
    return posix_parser(*footer).parse();
}

// Rules are loaded once per zone; zones live as long as the tzdb, i.e. the process.
const posix_rule* rule_of(const date::time_zone* zone) {
    static std::mutex mutex;
    static std::unordered_map<const date::time_zone*, std::optional<posix_rule>> rules;
    const std::lock_guard lock(mutex);
    auto it = rules.find(zone);
    if (it == rules.end()) {
        it = rules.emplace(zone, load_rule(zone)).first;
    }
    return it->second ? &*it->second : nullptr;
}

// Past the last stored transition date's info is open-ended; its end is far in the future.
constexpr std::int64_t open_ended_after = 253402300800;  // 10000-01-01

offset_span from_rule(const posix_rule& rule, const date::sys_info& last, std::int64_t t) {
    const int year = static_cast<int>(
        date::year_month_day{date::floor<date::days>(at_seconds(t + rule.std_offset))}.year());
    std::array<posix_rule::transition, 6> all{};
    for (int i = 0; i < 3; ++i) {
        const auto pair = rule.transitions(year - 1 + i);
        all[static_cast<std::size_t>(2 * i)] = pair[0];
        all[static_cast<std::size_t>(2 * i + 1)] = pair[1];
    }
    const std::int64_t last_begin = last.begin.time_since_epoch().count();
    std::int64_t begin = last_begin;
    std::int64_t offset = last.offset.count();
    std::int64_t end = open_end;
    for (const auto& tr : all) {
        if (tr.at <= t) {
            if (tr.at >= begin) {
                begin = tr.at;
                offset = tr.offset;
            }
        } else {
            end = tr.at;
            break;
        }
    }
    return {at_seconds(begin), at_seconds(end), seconds{offset}};
}

}  // namespace

offset_span offset_at(const date::time_zone* zone, sys_seconds t) {
    if (zone == nullptr) {
        return {at_seconds(-open_end), at_seconds(open_end), seconds{0}};
    }
    const date::sys_info info = zone->get_info(t);
    const std::int64_t end = info.end.time_since_epoch().count();
    if (end >= open_ended_after) {
        if (const posix_rule* rule = rule_of(zone); rule != nullptr && rule->has_dst) {
            return from_rule(*rule, info, t.time_since_epoch().count());
        }
    }
    return {at_seconds(clamp_end(info.begin.time_since_epoch().count())),
            at_seconds(clamp_end(end)), info.offset};
}

local_resolution resolve_local(const date::time_zone* zone, std::int64_t local,
                               const offset_span& hint) {
    // Offsets differ by at most about a day, so a local time two days inside a span cannot also
    // belong to a neighbouring one.
    {
        const std::int64_t inst = local - hint.offset.count();
        if (inst - hint.begin.time_since_epoch().count() >= 2 * day &&
            hint.end.time_since_epoch().count() - inst > 2 * day) {
            return {local_resolution::kind::unique, hint, hint};
        }
    }
    const offset_span mid = offset_at(zone, at_seconds(local));
    std::array<offset_span, 3> spans{mid, mid, mid};
    std::size_t n = 0;
    const std::int64_t mid_begin = mid.begin.time_since_epoch().count();
    const std::int64_t mid_end = mid.end.time_since_epoch().count();
    std::array<offset_span, 3> around{};
    if (mid_begin > -open_end) {
        around[n++] = offset_at(zone, mid.begin - seconds{1});
    }
    around[n++] = mid;
    if (mid_end < open_end) {
        around[n++] = offset_at(zone, mid.end);
    }
    std::size_t found = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t inst = local - around[i].offset.count();
        if (inst >= around[i].begin.time_since_epoch().count() &&
            inst < around[i].end.time_since_epoch().count()) {
            spans[found++] = around[i];
        }
    }
    if (found == 1) {
        return {local_resolution::kind::unique, spans[0], spans[0]};
    }
    if (found >= 2) {
        return {local_resolution::kind::ambiguous, spans[0], spans[1]};
    }
    // In a gap: between two neighbouring spans whose offset grows.
    for (std::size_t i = 0; i + 1 < n; ++i) {
        const std::int64_t boundary = around[i].end.time_since_epoch().count();
        if (local >= boundary + around[i].offset.count() &&
            local < boundary + around[i + 1].offset.count()) {
            return {local_resolution::kind::nonexistent, around[i], around[i + 1]};
        }
    }
    return {local_resolution::kind::nonexistent, around[0], around[n - 1]};
}

}  // namespace sluice::core
