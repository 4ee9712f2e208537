// `sluice prune` (docs/cli.md): the background pruner's pass on demand, or its count.
#include <iostream>

#include "core/duration.hpp"
#include "core/redact.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "daemon/pruner.hpp"
#include "store/open_store.hpp"

namespace sluice::daemon {
namespace {

std::string age(core::duration d) {
    return d <= core::duration::zero() ? "forever" : core::format_duration(d);
}

void print_counts(const scheduler::prune_counts& n) {
    std::cout << "  runs            " << n.runs << "\n"
              << "  task instances  " << n.task_instances << "\n"
              << "  log lines       " << n.log_lines << "\n"
              << "  events          " << n.events << "\n"
              << "  backfills       " << n.backfills << "\n";
}

}  // namespace

int run_prune(const prune_options& options) {
    const auto cfg = load_config_or_report(options.config_file, options.environment);
    if (!cfg) {
        return exit_invalid;
    }
    const std::string url = store_url(cfg->store);
    const std::string shown = core::redact_url(url);
    auto store = store::open_store(url, store_options_of(cfg->store));
    if (!store) {
        std::cerr << "sluice: cannot open the store " << shown << ": " << store.error().message
                  << "\n";
        return exit_unavailable;
    }
    const auto& r = cfg->retention;
    std::cout << "retention: runs " << age(r.runs) << ", logs " << age(r.logs) << ", events "
              << age(r.events) << "\n";
    const auto cutoffs = cutoffs_at(r, std::chrono::system_clock::now());
    if (options.dry_run) {
        auto n = (*store)->count_prunable(cutoffs);
        if (!n) {
            std::cerr << "sluice: cannot count in " << shown << ": " << n.error().message << "\n";
            return exit_unavailable;
        }
        std::cout << "would remove (dry run, nothing removed):\n";
        print_counts(*n);
        return exit_ok;
    }
    const pruner_options batches;
    const auto outcome =
        prune_all(**store, cutoffs, batches.batch, batches.pause, [] { return false; });
    std::cout << "removed:\n";
    print_counts(outcome.removed);
    if (outcome.failed) {
        std::cerr << "sluice: pruning " << shown << " stopped: " << outcome.failed->message << "\n";
        return exit_unavailable;
    }
    return exit_ok;
}

}  // namespace sluice::daemon
