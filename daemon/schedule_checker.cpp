#include "daemon/schedule_checker.hpp"

#include "scheduler/cron_expression.hpp"

namespace sluice::daemon {

config::schedule_checker make_schedule_checker() {
    return [](std::string_view text) -> std::optional<config::schedule_problem> {
        auto parsed = scheduler::cron_expression::parse(text);
        if (parsed) {
            return std::nullopt;
        }
        const auto& e = parsed.error();
        return config::schedule_problem{e.message, e.offset, e.length};
    };
}

}  // namespace sluice::daemon
