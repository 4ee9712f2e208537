#include <chrono>
#include <iostream>

#include <date/tz.h>

#include "core/time.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "scheduler/cron_expression.hpp"
#include "web/auth.hpp"

namespace sluice::daemon {
namespace {

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
