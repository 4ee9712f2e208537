#include "etl/copy_cursor.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace sluice::etl {

namespace {

using json = nlohmann::json;

json bound_json(const connectors::cursor_bound& b) {
    return json{{"columns", b.columns}, {"values", b.values}, {"inclusive", b.inclusive}};
}

// A date or timestamp in canonical text as microseconds since the epoch.
std::optional<std::int64_t> parse_micros(std::string_view text) {
    int y = 0;
    unsigned mo = 0;
    unsigned d = 0;
    int h = 0;
    int mi = 0;
    int s = 0;
    const std::string t(text);
    int used = 0;
    if (std::sscanf(t.c_str(), "%d-%u-%u%n", &y, &mo, &d, &used) != 3) {
        return std::nullopt;
    }
    std::int64_t micros = 0;
    if (static_cast<std::size_t>(used) < t.size()) {
        int more = 0;
        if (std::sscanf(t.c_str() + used, " %d:%d:%d%n", &h, &mi, &s, &more) != 3) {
            return std::nullopt;
        }
        std::size_t pos = static_cast<std::size_t>(used + more);
        if (pos < t.size() && t[pos] == '.') {
            std::int64_t frac = 0;
            int digits = 0;
            for (++pos; pos < t.size() && t[pos] >= '0' && t[pos] <= '9'; ++pos) {
                if (digits < 6) {
                    frac = frac * 10 + (t[pos] - '0');
                    ++digits;
                }
            }
            for (; digits < 6; ++digits) {
                frac *= 10;
            }
            micros = frac;
        }
    }
    const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                          std::chrono::day(d)};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
    return ((static_cast<std::int64_t>(days) * 24 + h) * 60 + mi) * 60 * 1'000'000LL +
           static_cast<std::int64_t>(s) * 1'000'000LL + micros;
}

std::string format_micros(std::int64_t micros, bool date_only) {
    const std::int64_t per_day = 86'400'000'000LL;
    std::int64_t days = micros / per_day;
    std::int64_t rest = micros % per_day;
    if (rest < 0) {
        rest += per_day;
        --days;
    }
    const std::chrono::year_month_day ymd{
        std::chrono::sys_days(std::chrono::days(static_cast<int>(days)))};
    char buf[64];
    if (date_only) {
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
        return buf;
    }
    const std::int64_t secs = rest / 1'000'000;
    const std::int64_t frac = rest % 1'000'000;
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60));
    std::string out = buf;
    if (frac != 0) {
        std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(frac));
        out += buf;
    }
    return out;
}

bool is_time(connectors::column_type t) {
    using connectors::column_type;
    return t == column_type::date || t == column_type::timestamp || t == column_type::timestamp_tz;
}

bool is_number(connectors::column_type t) {
    using connectors::column_type;
    return t == column_type::int16 || t == column_type::int32 || t == column_type::int64 ||
           t == column_type::decimal || t == column_type::float32 || t == column_type::float64;
}

int compare_numbers(std::string_view a, std::string_view b) {
    long double x = 0;
    long double y = 0;
    try {
        x = std::stold(std::string(a));
        y = std::stold(std::string(b));
    } catch (const std::exception&) {
        return a.compare(b);
    }
    return x < y ? -1 : (y < x ? 1 : 0);
}

}  // namespace

std::string to_json(const copy_checkpoint& checkpoint) {
    json j{{"cursor", checkpoint.cursor}, {"mark", nullptr}, {"intent", nullptr}};
    if (checkpoint.mark) {
        j["mark"] = *checkpoint.mark;
    }
    if (checkpoint.intent) {
        json intent{
            {"lo", nullptr}, {"hi", checkpoint.intent->hi}, {"rows", checkpoint.intent->rows}};
        if (checkpoint.intent->lo) {
            intent["lo"] = bound_json(*checkpoint.intent->lo);
        }
        j["intent"] = intent;
    }
    if (checkpoint.deletes_after) {
        j["deletes_after"] = *checkpoint.deletes_after;
    }
    return j.dump();
}

core::result<copy_checkpoint> checkpoint_from_json(std::string_view text) {
    const json j = json::parse(text, nullptr, false);
    const auto bad = [&](const std::string& why) {
        return core::error::permanent("the stored copy checkpoint is not valid (" + why +
                                      "): " + std::string(text.substr(0, 200)));
    };
    if (!j.is_object()) {
        return bad("not a JSON object");
    }
    copy_checkpoint c;
    try {
        if (j.contains("cursor")) {
            c.cursor = j.at("cursor").get<std::vector<std::string>>();
        }
        if (j.contains("mark") && !j.at("mark").is_null()) {
            c.mark = j.at("mark").get<cursor_values>();
        }
        if (j.contains("deletes_after") && !j.at("deletes_after").is_null()) {
            c.deletes_after = j.at("deletes_after").get<cursor_values>();
        }
        if (j.contains("intent") && !j.at("intent").is_null()) {
            const json& i = j.at("intent");
            batch_bounds b;
            b.hi = i.at("hi").get<cursor_values>();
            b.rows = i.value("rows", std::uint64_t{0});
            if (i.contains("lo") && !i.at("lo").is_null()) {
                const json& lo = i.at("lo");
                b.lo = connectors::cursor_bound{lo.at("columns").get<std::vector<std::string>>(),
                                                lo.at("values").get<std::vector<std::string>>(),
                                                lo.value("inclusive", false)};
            }
            c.intent = std::move(b);
        }
    } catch (const json::exception& e) {
        return bad(e.what());
    }
    return c;
}

std::string values_json(const cursor_values& values) {
    return json(values).dump();
}

int compare_cursor(const std::vector<connectors::column_type>& types, const cursor_values& a,
                   const cursor_values& b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto type = i < types.size() ? types[i] : connectors::column_type::text;
        int c = 0;
        if (is_number(type)) {
            c = compare_numbers(a[i], b[i]);
        } else if (is_time(type)) {
            const auto x = parse_micros(a[i]);
            const auto y = parse_micros(b[i]);
            c = x && y ? (*x < *y ? -1 : (*y < *x ? 1 : 0)) : a[i].compare(b[i]);
        } else {
            c = a[i].compare(b[i]);
        }
        if (c != 0) {
            return c < 0 ? -1 : 1;
        }
    }
    return a.size() < b.size() ? -1 : (b.size() < a.size() ? 1 : 0);
}

core::result<std::string> step_back(connectors::column_type type, std::string_view value,
                                    core::duration window) {
    if (!is_time(type)) {
        return core::error::permanent(
            "'lookback' needs a date or timestamp as the first cursor column, not " +
            std::string(connectors::to_string(type)));
    }
    const auto micros = parse_micros(value);
    if (!micros) {
        return core::error::permanent("the cursor value '" + std::string(value) +
                                      "' is not a date or timestamp");
    }
    const auto back = std::chrono::duration_cast<std::chrono::microseconds>(window).count();
    return format_micros(*micros - back, type == connectors::column_type::date);
}

std::optional<double> seconds_between(connectors::column_type type, std::string_view from,
                                      std::string_view to) {
    if (!is_time(type)) {
        return std::nullopt;
    }
    const auto a = parse_micros(from);
    const auto b = parse_micros(to);
    if (!a || !b) {
        return std::nullopt;
    }
    return static_cast<double>(*b - *a) / 1e6;
}

std::string batch_token(std::string_view job, std::string_view task, const batch_bounds& bounds) {
    const std::string lo = bounds.lo ? bound_json(*bounds.lo).dump() : "start";
    return std::string(job) + "/" + std::string(task) + "/" + lo + ".." + values_json(bounds.hi);
}

}  // namespace sluice::etl
