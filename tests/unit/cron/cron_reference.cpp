#include "tests/unit/cron/cron_reference.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include <date/date.h>

namespace sluice::scheduler::testing {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep)) {
        out.push_back(cur);
    }
    return out;
}

std::string upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

int value_of(const std::string& s, const std::vector<std::string>& names, int name_base) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (upper(s) == names[i]) {
            return static_cast<int>(i) + name_base;
        }
    }
    return std::stoi(s);
}

const std::vector<std::string> months = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const std::vector<std::string> days = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// "*", "a", "a-b", "*/n", "a/n", "a-b/n" over [lo, wild_hi].
std::set<int> values(const std::string& item, int lo, int wild_hi,
                     const std::vector<std::string>& names, int name_base) {
    std::set<int> out;
    std::string base = item;
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string::npos) {
        base = item.substr(0, slash);
        step = std::stoi(item.substr(slash + 1));
    }
    int a = lo, b = wild_hi;
    if (base != "*" && base != "?") {
        if (const auto dash = base.find('-'); dash != std::string::npos) {
            a = value_of(base.substr(0, dash), names, name_base);
            const std::string end = base.substr(dash + 1);
            b = upper(end) == "SUN" && &names == &days ? 7 : value_of(end, names, name_base);
        } else {
            a = value_of(base, names, name_base);
            b = item.find('/') != std::string::npos ? std::max(a, wild_hi) : a;
        }
    }
    for (int v = a; v <= b; v += step) {
        out.insert(v);
    }
    return out;
}

std::set<int> field(const std::string& text, int lo, int hi,
                    const std::vector<std::string>& names = {}, int name_base = 0) {
    std::set<int> out;
    for (const auto& item : split(text, ',')) {
        const auto v = values(item, lo, hi, names, name_base);
        out.insert(v.begin(), v.end());
    }
    return out;
}

bool single(const std::string& text, const std::set<int>& v) {
    return v.size() == 1 && text.find_first_of("*?/") == std::string::npos;
}

}  // namespace

std::optional<reference_cron> reference_cron::parse(std::string_view text_in) {
    std::string text(text_in);
    const std::string low = upper(text);
    if (low == "@YEARLY" || low == "@ANNUALLY")
        text = "0 0 1 1 *";
    if (low == "@MONTHLY")
        text = "0 0 1 * *";
    if (low == "@WEEKLY")
        text = "0 0 * * 0";
    if (low == "@DAILY" || low == "@MIDNIGHT")
        text = "0 0 * * *";
    if (low == "@HOURLY")
        text = "0 * * * *";
    std::istringstream in(text);
    std::vector<std::string> f;
    for (std::string w; in >> w;) {
        f.push_back(w);
    }
    if (f.size() == 5)
        f.insert(f.begin(), "0");
    if (f.size() == 6)
        f.push_back("*");
    if (f.size() != 7)
        return std::nullopt;
    reference_cron r;
    try {
        r.second_ = field(f[0], 0, 59);
        r.minute_ = field(f[1], 0, 59);
        r.hour_ = field(f[2], 0, 23);
        r.month_ = field(f[4], 1, 12, months, 1);
        r.any_year_ = f[6] == "*" || f[6] == "?";
        if (!r.any_year_)
            r.year_ = field(f[6], 1970, 2199);
        r.fixed_ = single(f[0], r.second_) && single(f[1], r.minute_) && single(f[2], r.hour_);

        r.dom_star_ = f[3] == "*" || f[3] == "?";
        for (const auto& item : split(f[3], ',')) {
            const std::string u = upper(item);
            if (u == "L")
                r.last_offset_ = 0;
            else if (u == "LW")
                r.last_weekday_ = true;
            else if (u.rfind("L-", 0) == 0)
                r.last_offset_ = std::stoi(u.substr(2));
            else if (u.back() == 'W')
                r.nearest_.insert(std::stoi(u.substr(0, u.size() - 1)));
            else {
                const auto v = values(item, 1, 31, {}, 0);
                r.dom_.insert(v.begin(), v.end());
            }
        }
        std::string dow = f[5];
        if (!dow.empty() && dow[0] == '+') {
            r.and_ = true;
            dow = dow.substr(1);
        }
        r.dow_star_ = dow == "*" || dow == "?";
        for (const auto& item : split(dow, ',')) {
            const std::string u = upper(item);
            if (const auto hash = u.find('#'); hash != std::string::npos) {
                const int wd = value_of(u.substr(0, hash), days, 0) % 7;
                const std::string k = u.substr(hash + 1);
                r.dow_nth_.insert({wd, k == "L" ? 6 : std::stoi(k)});
            } else if (u.size() > 1 && u.back() == 'L') {
                r.dow_nth_.insert({value_of(u.substr(0, u.size() - 1), days, 0) % 7, 6});
            } else {
                for (int v : values(item, 0, 6, days, 0))
                    r.dow_plain_.insert(v % 7);
            }
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return r;
}

bool reference_cron::matches_day(int year, unsigned month, unsigned day) const {
    using namespace date;
    const year_month_day ymd{date::year{year}, date::month{month}, date::day{day}};
    const unsigned last =
        unsigned{year_month_day_last{date::year{year}, month_day_last{date::month{month}}}.day()};
    const auto wd_of = [&](unsigned d) {
        return static_cast<int>(
            weekday{sys_days{date::year{year} / date::month{month} / date::day{d}}}.c_encoding());
    };
    bool dom = dom_.count(static_cast<int>(day)) > 0;
    if (last_offset_ >= 0 && static_cast<int>(last) - last_offset_ == static_cast<int>(day))
        dom = true;
    if (last_weekday_) {
        unsigned d = last;
        while (wd_of(d) == 0 || wd_of(d) == 6)
            --d;
        if (d == day)
            dom = true;
    }
    for (int n : nearest_) {
        if (static_cast<unsigned>(n) > last)
            continue;
        unsigned target = static_cast<unsigned>(n);
        if (wd_of(target) == 6)
            target = target == 1 ? 3 : target - 1;
        else if (wd_of(target) == 0)
            target = target == last ? target - 2 : target + 1;
        if (target == day)
            dom = true;
    }
    const int wd = wd_of(day);
    bool dow = dow_plain_.count(wd) > 0;
    const int k = static_cast<int>((day - 1) / 7 + 1);
    if (dow_nth_.count({wd, k}))
        dow = true;
    if (dow_nth_.count({wd, 6}) && day + 7 > last)
        dow = true;
    (void)ymd;
    if (dom_star_ && dow_star_)
        return true;
    if (dom_star_)
        return dow;
    if (dow_star_)
        return dom;
    return and_ ? (dom && dow) : (dom || dow);
}

bool reference_cron::matches(const local_time& t) const {
    if (!any_year_ && !year_.count(t.year))
        return false;
    return month_.count(static_cast<int>(t.month)) && hour_.count(static_cast<int>(t.hour)) &&
           minute_.count(static_cast<int>(t.minute)) && second_.count(static_cast<int>(t.second)) &&
           matches_day(t.year, t.month, t.day);
}

local_time to_local(std::chrono::sys_seconds t, std::chrono::seconds offset) {
    const auto local = t + offset;
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<std::chrono::seconds> tod{local - day};
    return {static_cast<int>(ymd.year()),
            unsigned{ymd.month()},
            unsigned{ymd.day()},
            static_cast<unsigned>(tod.hours().count()),
            static_cast<unsigned>(tod.minutes().count()),
            static_cast<unsigned>(tod.seconds().count())};
}

}  // namespace sluice::scheduler::testing
