#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "scheduler/cron/cron_fields.hpp"

namespace date {
class time_zone;
}

namespace sluice::scheduler {

// Why an expression was rejected, pointing at the offending token for a caret under it.
struct cron_parse_error {
    std::string message;     // names the field, e.g. "day-of-month: 32 is out of range 1-31"
    std::size_t offset = 0;  // byte offset into the expression where the offending token starts
    std::size_t length = 1;  // length of the offending token (>= 1)
};

// Found by boost::system::result through ADL; throws std::invalid_argument.
[[noreturn]] void throw_exception_from_error(const cron_parse_error& e,
                                             const boost::source_location& loc);

// A parsed cron schedule (docs/cron.md describes the language). Immutable and cheap to copy;
// next() is a pure function of its arguments, safe to call from several threads.
class cron_expression {
public:
    static boost::system::result<cron_expression, cron_parse_error> parse(std::string_view text);

    // First fire time strictly after `after`, evaluated in `zone` (nullptr = UTC); std::nullopt
    // when there is none (a 7-field year in the past, "0 0 30 2 *").
    std::optional<std::chrono::sys_seconds> next(std::chrono::sys_seconds after,
                                                 const date::time_zone* zone) const;

    // The schedule in plain English words, e.g. "at 02:30 on the last day of every month".
    std::string describe() const;

    // The expression exactly as written.
    const std::string& text() const { return text_; }

    // True for a fixed-time schedule (one value in each of second, minute and hour, written
    // without * ? or /): such a schedule runs after a DST gap and once in a repeated hour.
    bool is_fixed_time() const { return fields_.fixed_time; }

    // The interval of an "@every" schedule, zero otherwise.
    std::chrono::seconds every() const { return fields_.every; }

private:
    cron_expression(std::string text, const cron_fields& fields)
        : text_(std::move(text)), fields_(fields) {}

    std::string text_;
    cron_fields fields_;
};

}  // namespace sluice::scheduler
