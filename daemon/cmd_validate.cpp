#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <date/tz.h>

#include "core/time.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "scheduler/cron/cron_expression.hpp"
#include "web/auth.hpp"

namespace sluice::daemon {
namespace {

// The whitespace-separated fields of a schedule.
std::vector<std::string> fields_of(const std::string& schedule) {
    std::istringstream in(schedule);
    std::vector<std::string> out;
    for (std::string field; in >> field;) {
        out.push_back(field);
    }
    return out;
}

// "0 3 * * * *" is valid, but whoever wrote it likely meant 03:00 with a stray field: six
// fields start with seconds (docs/cron.md). A fixed second in the first field is what such a
// slip looks like, so the schedule is spelled out for them to check.
void note_seconds_field(const std::string& schedule, const scheduler::cron_expression& expression) {
    const auto fields = fields_of(schedule);
    if (fields.size() != 6 || fields.front().find_first_not_of("0123456789") != std::string::npos) {
        return;
    }
    std::cout << "      note: six fields, so the first (" << fields.front()
              << ") is seconds: it fires " << expression.describe()
              << "; five fields are minute hour day month weekday\n";
}

void print_job_summary(const config::job_spec& job, int next_runs) {
    std::cout << "  " << job.name;
    if (!job.schedule) {
        std::cout << ": manual only (no schedule)\n";
        return;
    }
    std::cout << ": \"" << *job.schedule << "\" in " << job.timezone
              << (job.paused ? " (paused)" : "") << "\n";
    // The config was validated with the same parser, so both lookups succeed here.
    const auto expression = scheduler::cron_expression::parse(*job.schedule).value();
    note_seconds_field(*job.schedule, expression);
    const auto* zone = core::find_time_zone(job.timezone).value();
    auto t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    for (int i = 0; i < next_runs; ++i) {
        const auto next = expression.next(t, zone);
        if (!next) {
            break;
        }
        std::cout << "      next: " << core::format_rfc3339(*next, zone) << "\n";
        t = *next;
    }
}

}  // namespace

int run_validate(const validate_options& options) {
    const auto loaded = load_config_or_report(options.config_file, options.environment);
    if (!loaded) {
        return exit_invalid;
    }
    // What `serve` would refuse at startup (and a reload would reject) is invalid here too.
    if (auto policy = web::check_listen_policy(loaded->server); !policy) {
        std::cerr << options.config_file << ": error: " << policy.error().message << "\n";
        return exit_invalid;
    }
    if (options.quiet) {
        return exit_ok;
    }
    const auto& cfg = *loaded;
    std::cout << options.config_file << ": valid";
    if (!options.environment.empty()) {
        std::cout << " (environment " << options.environment << ")";
    }
    std::cout << ", " << cfg.jobs.size() << (cfg.jobs.size() == 1 ? " job" : " jobs") << ", "
              << cfg.connections.size()
              << (cfg.connections.size() == 1 ? " connection" : " connections") << "\n";
    for (const auto& job : cfg.jobs) {
        print_job_summary(job, options.next_runs);
    }
    return exit_ok;
}

}  // namespace sluice::daemon
