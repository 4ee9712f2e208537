#include "scheduler/cron/cron_field_parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace sluice::scheduler {
namespace {

struct field_range {
    int min;
    int max;       // largest value accepted
    int wild_max;  // upper end of "*" and "a/n" (day-of-week: 6, since 7 is Sunday again)
};

field_range range_of(cron_field_kind kind) {
    switch (kind) {
        case cron_field_kind::second:
        case cron_field_kind::minute:
            return {0, 59, 59};
        case cron_field_kind::hour:
            return {0, 23, 23};
        case cron_field_kind::day_of_month:
            return {1, 31, 31};
        case cron_field_kind::month:
            return {1, 12, 12};
        case cron_field_kind::day_of_week:
            return {0, 7, 6};
        case cron_field_kind::year:
            return {cron_min_year, cron_max_year, cron_max_year};
    }
    return {0, 0, 0};
}

constexpr std::array<std::string_view, 12> month_abbreviations = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> weekday_abbreviations = {"SUN", "MON", "TUE", "WED",
                                                                   "THU", "FRI", "SAT"};

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) ==
                      std::toupper(static_cast<unsigned char>(y));
           });
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Parses one list item of one field; positions are relative to the item, reported absolutely.
class item_parser {
public:
    item_parser(std::string_view item, std::size_t offset, cron_field_kind kind,
                cron_fields& fields, cron_parse_error& error)
        : item_(item),
          offset_(offset),
          kind_(kind),
          range_(range_of(kind)),
          fields_(fields),
          error_(error) {}

    bool parse() {
        if (kind_ == cron_field_kind::day_of_month && parse_last_day()) {
            return ok_;
        }
        if (peek() == '*' || peek() == '?') {
            ++pos_;
            return parse_step_and_finish(range_.min, range_.wild_max, true, 0);
        }
        const std::size_t first_start = pos_;
        int first = 0;
        bool first_is_sunday_name = false;
        if (!parse_value(first, first_is_sunday_name)) {
            return false;
        }
        const char c = peek();
        if (c == '-') {
            ++pos_;
            int last = 0;
            bool last_is_sunday_name = false;
            if (!parse_value(last, last_is_sunday_name)) {
                return false;
            }
            if (kind_ == cron_field_kind::day_of_week && last_is_sunday_name) {
                last = 7;  // "FRI-SUN" means Friday through Sunday
            }
            if (first > last) {
                const std::string token(item_.substr(first_start, pos_ - first_start));
                if (kind_ == cron_field_kind::day_of_week && last == 0) {
                    return fail("range " + token +
                                    " is reversed (ranges do not wrap around; use 7 for Sunday "
                                    "at the end of a range, e.g. " +
                                    std::to_string(first) + "-7)",
                                first_start, pos_ - first_start);
                }
                return fail("range " + token +
                                " is reversed (ranges do not wrap around; split it into two "
                                "ranges, e.g. " +
                                wrap_hint(first, last) + ")",
                            first_start, pos_ - first_start);
            }
            if (modifier_allowed(peek())) {
                return fail_modifier_on_range(first_start);
            }
            return parse_step_and_finish(first, last, false, first_start);
        }
        if ((c == 'W' || c == 'w') && kind_ == cron_field_kind::day_of_month) {
            ++pos_;
            if (!at_end()) {
                return fail_unexpected();
            }
            fields_.nearest_weekdays |= std::uint64_t{1} << first;
            return true;
        }
        if ((c == 'L' || c == 'l') && kind_ == cron_field_kind::day_of_week) {
            ++pos_;
            if (!at_end()) {
                return fail_unexpected();
            }
            fields_.nth_weekday[static_cast<std::size_t>(first % 7)] |= cron_fields::nth_last;
            return true;
        }
        if (c == '#' && kind_ == cron_field_kind::day_of_week) {
            return parse_nth(first);
        }
        if (c == '/') {
            // "a/n" runs from a through the field's maximum.
            return parse_step_and_finish(first, std::max(first, range_.wild_max), false,
                                         first_start);
        }
        if (!at_end()) {
            return fail_unexpected();
        }
        set_range(first, first, 1);
        return true;
    }

private:
    char peek() const { return pos_ < item_.size() ? item_[pos_] : '\0'; }
    bool at_end() const { return pos_ >= item_.size(); }

    bool modifier_allowed(char c) const {
        if (kind_ == cron_field_kind::day_of_month) {
            return c == 'W' || c == 'w';
        }
        if (kind_ == cron_field_kind::day_of_week) {
            return c == 'L' || c == 'l' || c == '#';
        }
        return false;
    }

    std::string field() const { return cron_field_name(kind_); }

    bool fail(std::string message, std::size_t at, std::size_t length) {
        error_.message = field() + ": " + std::move(message);
        error_.offset = offset_ + at;
        error_.length = std::max<std::size_t>(length, 1);
        ok_ = false;
        return false;
    }

    std::string wrap_hint(int first, int last) const {
        return std::to_string(first) + "-" + std::to_string(range_.max) + "," +
               std::to_string(range_.min) + "-" + std::to_string(last);
    }

    // Explains a character that does not belong here, naming the field where it would.
    bool fail_unexpected() {
        const char c = peek();
        const std::size_t at = pos_;
        if (modifier_allowed(c)) {
            return fail(std::string("unexpected '") + c + "'", at, 1);
        }
        if ((c == 'L' || c == 'l') && kind_ == cron_field_kind::day_of_month) {
            return fail("'L' must stand alone in day-of-month: L, L-n or LW", at, 1);
        }
        if (c == 'L' || c == 'l') {
            return fail("'L' is only allowed in the day-of-month and day-of-week fields", at, 1);
        }
        if (c == 'W' || c == 'w') {
            return fail("'W' is only allowed after a single day in the day-of-month field", at, 1);
        }
        if (c == '#') {
            return fail("'#' is only allowed after a single weekday in the day-of-week field", at,
                        1);
        }
        if (c == '+') {
            return fail("'+' is only allowed at the start of the day-of-week field", at, 1);
        }
        if (c == '*' || c == '?') {
            return fail(std::string("'") + c + "' must stand alone or be followed by a step", at,
                        1);
        }
        if (c == '-' || c == '/') {
            return fail(std::string("unexpected '") + c + "'", at, 1);
        }
        std::size_t end = at;
        while (end < item_.size() && (is_alpha(item_[end]) || is_digit(item_[end]))) {
            ++end;
        }
        if (end == at) {
            end = at + 1;
        }
        return fail("unexpected '" + std::string(item_.substr(at, end - at)) + "'", at, end - at);
    }

    bool fail_modifier_on_range(std::size_t start) {
        const char c = peek();
        const std::string what = c == '#' ? "'#'" : std::string("'") + c + "'";
        return fail(what + " cannot follow a range; it applies to a single value", start,
                    pos_ + 1 - start);
    }

    // A number, or a month/weekday name where the field has names.
    bool parse_value(int& out, bool& is_sunday_name) {
        is_sunday_name = false;
        const std::size_t start = pos_;
        if (is_digit(peek())) {
            long long v = 0;
            while (is_digit(peek())) {
                if (v < 100000000) {
                    v = v * 10 + (peek() - '0');
                }
                ++pos_;
            }
            const std::size_t len = pos_ - start;
            if (v < range_.min || v > range_.max) {
                return fail(std::string(item_.substr(start, len)) + " is out of range " +
                                std::to_string(range_.min) + "-" + std::to_string(range_.max),
                            start, len);
            }
            out = static_cast<int>(v);
            return true;
        }
        if (is_alpha(peek())) {
            while (is_alpha(peek())) {
                ++pos_;
            }
            std::string_view word = item_.substr(start, pos_ - start);
            if (kind_ == cron_field_kind::day_of_week && word.size() == 4 &&
                (word.back() == 'L' || word.back() == 'l')) {
                // "FRIL": last Friday; leave the L for the caller.
                --pos_;
                word.remove_suffix(1);
            }
            if (kind_ == cron_field_kind::month) {
                if (iequals(word, "L") || iequals(word, "W") || iequals(word, "LW")) {
                    pos_ = start;
                    return fail_unexpected();
                }
                for (std::size_t i = 0; i < month_abbreviations.size(); ++i) {
                    if (iequals(word, month_abbreviations[i])) {
                        out = static_cast<int>(i) + 1;
                        return true;
                    }
                }
                return fail("unknown month '" + std::string(word) +
                                "' (expected 1-12 or JAN, FEB, ..., DEC)",
                            start, word.size());
            }
            if (kind_ == cron_field_kind::day_of_week) {
                if (iequals(word, "L")) {
                    return fail(
                        "'L' in day-of-week needs a weekday before it, e.g. 5L or FRIL "
                        "(the last Friday of the month)",
                        start, 1);
                }
                for (std::size_t i = 0; i < weekday_abbreviations.size(); ++i) {
                    if (iequals(word, weekday_abbreviations[i])) {
                        out = static_cast<int>(i);
                        is_sunday_name = i == 0;
                        return true;
                    }
                }
                return fail("unknown weekday '" + std::string(word) +
                                "' (expected 0-7 or SUN, MON, ..., SAT)",
                            start, word.size());
            }
            pos_ = start;
            if (iequals(word, "L") || iequals(word, "W") || iequals(word, "LW")) {
                return fail_unexpected();
            }
            return fail("expected a number " + std::to_string(range_.min) + "-" +
                            std::to_string(range_.max) + ", got '" + std::string(word) + "'",
                        start, word.size());
        }
        if (at_end()) {
            return fail("expected a value " + std::to_string(range_.min) + "-" +
                            std::to_string(range_.max) + " after '" +
                            std::string(item_.substr(0, pos_)) + "'",
                        pos_ > 0 ? pos_ - 1 : 0, 1);
        }
        return fail_unexpected();
    }

    bool parse_step_and_finish(int first, int last, bool wildcard, std::size_t start) {
        (void)start;
        int step = 1;
        if (peek() == '/') {
            ++pos_;
            const std::size_t step_start = pos_;
            if (!is_digit(peek())) {
                if (at_end()) {
                    return fail("missing step after '/'", step_start - 1, 1);
                }
                return fail_unexpected();
            }
            long long v = 0;
            while (is_digit(peek())) {
                if (v < 100000000) {
                    v = v * 10 + (peek() - '0');
                }
                ++pos_;
            }
            const std::size_t len = pos_ - step_start;
            const int span = range_.wild_max - range_.min + 1;
            if (v == 0) {
                return fail("step must be at least 1, got 0", step_start, len);
            }
            if (v > span) {
                return fail("step " + std::string(item_.substr(step_start, len)) +
                                " is larger than the field's range " + std::to_string(range_.min) +
                                "-" + std::to_string(range_.wild_max),
                            step_start, len);
            }
            step = static_cast<int>(v);
        }
        if (!at_end()) {
            return fail_unexpected();
        }
        (void)wildcard;
        set_range(first, last, step);
        return true;
    }

    // "L", "L-n" (n days before the last day) and "LW" in day-of-month.
    bool parse_last_day() {
        if (peek() != 'L' && peek() != 'l') {
            return false;
        }
        if (iequals(item_, "L")) {
            fields_.last_day_offset = 0;
            return true;
        }
        if (iequals(item_, "LW")) {
            fields_.last_weekday = true;
            return true;
        }
        if (item_.size() >= 2 && item_[1] == '-') {
            pos_ = 2;
            const std::size_t start = pos_;
            if (!is_digit(peek())) {
                if (at_end()) {
                    fail("expected a number of days after 'L-', e.g. L-2", 0, item_.size());
                    return true;
                }
                fail_unexpected();
                return true;
            }
            int v = 0;
            while (is_digit(peek()) && v < 1000) {
                v = v * 10 + (peek() - '0');
                ++pos_;
            }
            if (!at_end()) {
                fail_unexpected();
                return true;
            }
            if (v < 1 || v > 30) {
                fail("L-" + std::string(item_.substr(start)) +
                         " is out of range (n in L-n must be 1-30)",
                     start, pos_ - start);
                return true;
            }
            // Several "L-n" items are not supported; the last one would silently win.
            if (fields_.last_day_offset >= 0) {
                fail("only one of L and L-n may appear in day-of-month", 0, item_.size());
                return true;
            }
            fields_.last_day_offset = v;
            return true;
        }
        pos_ = 1;
        fail_unexpected();
        return true;
    }

    bool parse_nth(int weekday) {
        ++pos_;  // '#'
        const std::size_t start = pos_;
        if (peek() == 'L' || peek() == 'l') {
            ++pos_;
            if (!at_end()) {
                return fail_unexpected();
            }
            fields_.nth_weekday[static_cast<std::size_t>(weekday % 7)] |= cron_fields::nth_last;
            return true;
        }
        if (!is_digit(peek())) {
            if (at_end()) {
                return fail("expected an occurrence 1-5 or L after '#'", start - 1, 1);
            }
            return fail_unexpected();
        }
        int k = 0;
        while (is_digit(peek()) && k < 1000) {
            k = k * 10 + (peek() - '0');
            ++pos_;
        }
        if (!at_end()) {
            return fail_unexpected();
        }
        if (k < 1 || k > 5) {
            return fail("occurrence " + std::string(item_.substr(start, pos_ - start)) +
                            " is out of range 1-5 (e.g. MON#2 is the second Monday)",
                        start, pos_ - start);
        }
        fields_.nth_weekday[static_cast<std::size_t>(weekday % 7)] |=
            static_cast<std::uint8_t>(1u << (k - 1));
        return true;
    }

    void set_range(int first, int last, int step) {
        for (int v = first; v <= last; v += step) {
            switch (kind_) {
                case cron_field_kind::second:
                    fields_.seconds |= std::uint64_t{1} << v;
                    break;
                case cron_field_kind::minute:
                    fields_.minutes |= std::uint64_t{1} << v;
                    break;
                case cron_field_kind::hour:
                    fields_.hours |= std::uint64_t{1} << v;
                    break;
                case cron_field_kind::day_of_month:
                    fields_.days |= std::uint64_t{1} << v;
                    break;
                case cron_field_kind::month:
                    fields_.months |= std::uint64_t{1} << v;
                    break;
                case cron_field_kind::day_of_week:
                    fields_.weekdays |= static_cast<std::uint8_t>(1u << (v % 7));
                    break;
                case cron_field_kind::year: {
                    const unsigned i = static_cast<unsigned>(v - cron_min_year);
                    fields_.years[i / 64] |= std::uint64_t{1} << (i % 64);
                    break;
                }
            }
        }
    }

    std::string_view item_;
    std::size_t offset_;
    cron_field_kind kind_;
    field_range range_;
    cron_fields& fields_;
    cron_parse_error& error_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace

const char* cron_field_name(cron_field_kind kind) {
    switch (kind) {
        case cron_field_kind::second:
            return "second";
        case cron_field_kind::minute:
            return "minute";
        case cron_field_kind::hour:
            return "hour";
        case cron_field_kind::day_of_month:
            return "day-of-month";
        case cron_field_kind::month:
            return "month";
        case cron_field_kind::day_of_week:
            return "day-of-week";
        case cron_field_kind::year:
            return "year";
    }
    return "field";
}

bool parse_cron_field(std::string_view field, std::size_t offset, cron_field_kind kind,
                      cron_fields& fields, cron_parse_error& error) {
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = field.find(',', start);
        const std::size_t end = comma == std::string_view::npos ? field.size() : comma;
        if (end == start) {
            error.message = std::string(cron_field_name(kind)) + ": empty list item";
            error.offset =
                offset + (comma == std::string_view::npos && start > 0 ? start - 1 : start);
            error.length = 1;
            return false;
        }
        item_parser item(field.substr(start, end - start), offset + start, kind, fields, error);
        if (!item.parse()) {
            return false;
        }
        if (comma == std::string_view::npos) {
            return true;
        }
        start = comma + 1;
    }
}

}  // namespace sluice::scheduler
