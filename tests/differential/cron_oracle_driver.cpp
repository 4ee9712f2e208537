// Test-only driver for croner_diff.mjs: one case per input line,
//   EXPR <TAB> ZONE <TAB> FROM_RFC3339 <TAB> N
// answered by up to N fire times (RFC 3339 UTC, one per line; fewer when the schedule ends) or a
// single "ERROR message" line, then "END". The zone "UTC" is passed as nullptr, every other name
// goes through the tz database.

#include <iostream>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "scheduler/cron/cron_expression.hpp"

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t tab = line.find('\t', start);
        out.push_back(
            line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos) {
            return out;
        }
        start = tab + 1;
    }
}

void answer(const std::string& line) {
    const std::vector<std::string> parts = split_tabs(line);
    if (parts.size() != 4) {
        std::cout << "ERROR expected EXPR<TAB>ZONE<TAB>FROM<TAB>N\n";
        return;
    }
    const auto expr = sluice::scheduler::cron_expression::parse(parts[0]);
    if (!expr) {
        std::cout << "ERROR " << expr.error().message << " (offset " << expr.error().offset
                  << ", length " << expr.error().length << ")\n";
        return;
    }
    const date::time_zone* zone = nullptr;
    if (parts[1] != "UTC") {
        const auto found = sluice::core::find_time_zone(parts[1]);
        if (!found) {
            std::cout << "ERROR " << found.error().message << "\n";
            return;
        }
        zone = *found;
    }
    const auto from = sluice::core::parse_rfc3339(parts[2]);
    if (!from) {
        std::cout << "ERROR " << from.error().message << "\n";
        return;
    }
    const int n = std::stoi(parts[3]);
    auto t = *from;
    for (int i = 0; i < n; ++i) {
        const auto next = expr->next(t, zone);
        if (!next) {
            break;
        }
        std::cout << sluice::core::format_rfc3339_utc(*next) << "\n";
        t = *next;
    }
}

}  // namespace

int main() {
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
        if (!line.empty()) {
            answer(line);
        }
        std::cout << "END\n";
    }
    return 0;
}
