#include <chrono>
#include <iostream>

#include <date/tz.h>

#include "core/time.hpp"
#include "daemon/commands.hpp"
#include "scheduler/cron/cron_expression.hpp"

namespace sluice::daemon {
namespace {

// Prints a parse error with a caret line under the offending token, like a compiler.
void print_parse_error(std::string_view expression, const scheduler::cron_parse_error& e) {
    std::cerr << "sluice: invalid cron expression: " << e.message << "\n";
    std::cerr << "  " << expression << "\n";
    const std::size_t offset = std::min(e.offset, expression.size());
    std::cerr << "  " << std::string(offset, ' ')
              << std::string(std::max<std::size_t>(1, e.length), '^') << "\n";
}

struct parsed_input {
    scheduler::cron_expression expression;
    const date::time_zone* zone;
};

std::optional<parsed_input> parse_input(const std::string& text, const std::string& zone_name) {
    auto expression = scheduler::cron_expression::parse(text);
    if (!expression) {
        print_parse_error(text, expression.error());
        return std::nullopt;
    }
    auto zone = core::find_time_zone(zone_name);
    if (!zone) {
        std::cerr << "sluice: " << zone.error().message << "\n";
        return std::nullopt;
    }
    return parsed_input{std::move(*expression), *zone};
}

// Prints up to `count` fire times after `from`; fewer when the schedule ends (a year field).
void print_fire_times(const parsed_input& in, core::sys_seconds from, int count,
                      std::string_view indent) {
    core::sys_seconds t = from;
    for (int i = 0; i < count; ++i) {
        const auto next = in.expression.next(t, in.zone);
        if (!next) {
            if (i == 0) {
                std::cout << indent << "(never fires after " << core::format_rfc3339(from, in.zone)
                          << ")\n";
            }
            return;
        }
        std::cout << indent << core::format_rfc3339(*next, in.zone) << "\n";
        t = *next;
    }
}

}  // namespace

int run_cron_next(const cron_next_options& options) {
    if (options.count < 1) {
        std::cerr << "sluice: -n must be at least 1\n";
        return exit_usage;
    }
    auto in = parse_input(options.expression, options.zone);
    if (!in) {
        return exit_invalid;
    }
    core::sys_seconds from =
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    if (options.from) {
        auto parsed = core::parse_rfc3339(*options.from);
        if (!parsed) {
            std::cerr << "sluice: --from: " << parsed.error().message << "\n";
            return exit_usage;
        }
        from = *parsed;
    }
    print_fire_times(*in, from, options.count, "");
    return exit_ok;
}

int run_cron_explain(const cron_explain_options& options) {
    auto in = parse_input(options.expression, options.zone);
    if (!in) {
        return exit_invalid;
    }
    std::cout << in->expression.describe();
    if (options.zone != "UTC") {
        std::cout << " (" << options.zone << ")";
    }
    std::cout << "\nnext fire times:\n";
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    print_fire_times(*in, now, 5, "  ");
    return exit_ok;
}

}  // namespace sluice::daemon
