// libFuzzer target for the cron engine: arbitrary bytes as an expression; when they parse, a few
// next() fire times in a few zones must be strictly increasing and strictly after the start, and
// describe() must not crash. Aborts on a violation.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <date/tz.h>

#include "scheduler/cron/cron_expression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = sluice::scheduler::cron_expression::parse(text);
    if (!parsed) {
        const auto& e = parsed.error();
        if (e.message.empty() || e.length == 0 || e.offset > size) {
            std::abort();
        }
        return 0;
    }
    static const date::time_zone* const zones[] = {nullptr, date::locate_zone("America/New_York"),
                                                   date::locate_zone("Australia/Lord_Howe"),
                                                   date::locate_zone("Pacific/Chatham")};
    // Just before the 2026 spring-forward in New York and a time in 2038 (rule-based offsets).
    static const std::chrono::sys_seconds starts[] = {
        std::chrono::sys_seconds{std::chrono::seconds{1772949600}},
        std::chrono::sys_seconds{std::chrono::seconds{2171000000}}};
    (void)parsed->describe();
    for (const auto* zone : zones) {
        for (const auto start : starts) {
            auto t = start;
            for (int i = 0; i < 4; ++i) {
                const auto next = parsed->next(t, zone);
                if (!next) {
                    break;
                }
                if (*next <= t) {
                    std::abort();
                }
                t = *next;
            }
        }
    }
    return 0;
}
