#include "scheduler/cron/cron_expression.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <stdexcept>
#include <vector>

#include "core/duration.hpp"
#include "scheduler/cron/cron_field_parser.hpp"

namespace sluice::scheduler {
namespace {

using parse_result = boost::system::result<cron_expression, cron_parse_error>;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

struct token {
    std::string_view text;
    std::size_t offset;
};

std::vector<token> split_fields(std::string_view text) {
    std::vector<token> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) {
            ++i;
        }
        if (i > start) {
            out.push_back({text.substr(start, i - start), start});
        }
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

cron_parse_error make_error(std::string message, std::size_t offset, std::size_t length) {
    return {std::move(message), offset, std::max<std::size_t>(length, 1)};
}

// A fixed-time field holds one value and was written without a wildcard or a step.
bool is_single_value(std::string_view text, std::uint64_t bits) {
    return std::popcount(bits) == 1 && text.find_first_of("*?/") == std::string_view::npos;
}

struct macro {
    std::string_view name;
    std::string_view expansion;
};

constexpr std::array<macro, 7> macros = {{{"@yearly", "0 0 1 1 *"},
                                          {"@annually", "0 0 1 1 *"},
                                          {"@monthly", "0 0 1 * *"},
                                          {"@weekly", "0 0 * * 0"},
                                          {"@daily", "0 0 * * *"},
                                          {"@midnight", "0 0 * * *"},
                                          {"@hourly", "0 * * * *"}}};

boost::system::result<cron_fields, cron_parse_error> parse_fields(std::string_view text) {
    const std::vector<token> tokens = split_fields(text);
    if (tokens.size() < 5 || tokens.size() > 7) {
        if (tokens.empty()) {
            return make_error(
                "empty expression: expected 5, 6 or 7 fields "
                "(minute hour day-of-month month day-of-week) or a macro such as "
                "@daily",
                0, text.size());
        }
        const std::size_t first = tokens.front().offset;
        const std::size_t end = tokens.back().offset + tokens.back().text.size();
        if (tokens.size() > 7) {
            return make_error("expected 5, 6 or 7 fields, got " + std::to_string(tokens.size()),
                              tokens[7].offset, end - tokens[7].offset);
        }
        return make_error(
            "expected 5 fields (minute hour day-of-month month day-of-week), 6 "
            "(with leading seconds) or 7 (with trailing year), got " +
                std::to_string(tokens.size()),
            first, end - first);
    }

    static constexpr std::array<cron_field_kind, 7> layout = {
        cron_field_kind::second,       cron_field_kind::minute, cron_field_kind::hour,
        cron_field_kind::day_of_month, cron_field_kind::month,  cron_field_kind::day_of_week,
        cron_field_kind::year};
    const std::size_t first_kind = tokens.size() == 5 ? 1 : 0;

    cron_fields fields;
    if (tokens.size() == 5) {
        fields.seconds = 1;  // second 0
    }
    std::array<std::string_view, 7> texts = {"0", "", "", "", "", "", "*"};
    cron_parse_error error;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const cron_field_kind kind = layout[first_kind + i];
        std::string_view field = tokens[i].text;
        std::size_t offset = tokens[i].offset;
        if (field.front() == '+') {
            if (kind != cron_field_kind::day_of_week) {
                return make_error(std::string(cron_field_name(kind)) +
                                      ": '+' is only allowed at the start of the day-of-week "
                                      "field",
                                  offset, 1);
            }
            if (field.size() == 1) {
                return make_error("day-of-week: '+' must be followed by weekdays, e.g. +MON",
                                  offset, 1);
            }
            fields.dom_and_dow = true;
            field.remove_prefix(1);
            ++offset;
        }
        texts[static_cast<std::size_t>(kind)] = field;
        const bool star = field == "*" || field == "?";
        if (kind == cron_field_kind::year) {
            fields.any_year = star;
        }
        if (!parse_cron_field(field, offset, kind, fields, error)) {
            return error;
        }
    }
    fields.dom_star = texts[3] == "*" || texts[3] == "?";
    fields.dow_star = texts[5] == "*" || texts[5] == "?";
    fields.fixed_time = is_single_value(texts[0], fields.seconds) &&
                        is_single_value(texts[1], fields.minutes) &&
                        is_single_value(texts[2], fields.hours);
    return fields;
}

boost::system::result<cron_fields, cron_parse_error> parse_every(std::string_view text,
                                                                 std::size_t word, std::size_t at) {
    const std::vector<token> rest = split_fields(text.substr(at));
    if (rest.empty()) {
        return make_error("@every: missing interval, e.g. @every 15m", word, at - word);
    }
    if (rest.size() > 1) {
        const std::size_t begin = at + rest[1].offset;
        return make_error(
            "@every: expected one interval, got extra text '" + std::string(rest[1].text) + "'",
            begin, rest[1].text.size());
    }
    const std::size_t begin = at + rest[0].offset;
    const auto d = core::parse_duration(rest[0].text);
    if (!d) {
        return make_error("@every: " + d.error().message, begin, rest[0].text.size());
    }
    if (d->count() < 1000 || d->count() % 1000 != 0) {
        return make_error(
            "@every: the interval must be a whole number of seconds, at least 1s "
            "(got " +
                std::string(rest[0].text) + ")",
            begin, rest[0].text.size());
    }
    cron_fields fields;
    fields.every = std::chrono::duration_cast<std::chrono::seconds>(*d);
    return fields;
}

}  // namespace

void throw_exception_from_error(const cron_parse_error& e, const boost::source_location&) {
    throw std::invalid_argument("invalid cron expression: " + e.message + " (at offset " +
                                std::to_string(e.offset) + ")");
}

parse_result cron_expression::parse(std::string_view text) {
    std::size_t first = 0;
    while (first < text.size() && is_space(text[first])) {
        ++first;
    }
    if (first < text.size() && text[first] == '@') {
        std::size_t end = first;
        while (end < text.size() && !is_space(text[end])) {
            ++end;
        }
        const std::string name = lower(text.substr(first, end - first));
        if (name == "@every") {
            auto fields = parse_every(text, first, end);
            if (!fields) {
                return fields.error();
            }
            return cron_expression(std::string(text), *fields);
        }
        for (const macro& m : macros) {
            if (name == m.name) {
                const std::vector<token> rest = split_fields(text.substr(end));
                if (!rest.empty()) {
                    return make_error(std::string(m.name) + " takes no arguments, got '" +
                                          std::string(rest[0].text) + "'",
                                      end + rest[0].offset, rest[0].text.size());
                }
                auto fields = parse_fields(m.expansion);
                return cron_expression(std::string(text), *fields);
            }
        }
        return make_error("unknown macro '" + std::string(text.substr(first, end - first)) +
                              "' (expected @yearly, @annually, @monthly, @weekly, @daily, "
                              "@midnight, @hourly or @every DURATION)",
                          first, end - first);
    }
    auto fields = parse_fields(text);
    if (!fields) {
        return fields.error();
    }
    return cron_expression(std::string(text), *fields);
}

}  // namespace sluice::scheduler
