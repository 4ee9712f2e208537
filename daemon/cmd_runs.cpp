#include <iostream>

#include <nlohmann/json.hpp>

#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "daemon/run_report.hpp"
#include "store/open_store.hpp"

namespace sluice::daemon {
namespace {

// `runs` reads the store directly: it works while `serve` runs (SQLite WAL allows a reader)
// and when it does not.
std::unique_ptr<scheduler::run_store> open_for_reading(const runs_options& options) {
    const auto cfg = load_config_or_report(options.config_file, options.environment);
    if (!cfg) {
        return nullptr;
    }
    auto store = store::open_store(store_url(cfg->store), store_options_of(cfg->store));
    if (!store) {
        std::cerr << "sluice: cannot open the store: " << store.error().message << "\n";
        return nullptr;
    }
    if (auto migrated = (*store)->migrate(); !migrated) {
        std::cerr << "sluice: cannot prepare the store: " << migrated.error().message << "\n";
        return nullptr;
    }
    return std::move(*store);
}

}  // namespace

int run_runs_list(const runs_options& options) {
    std::optional<scheduler::run_state> state;
    if (!options.state.empty()) {
        state = scheduler::parse_run_state(options.state);
        if (!state) {
            std::cerr << "sluice: unknown state '" << options.state
                      << "' (expected queued, running, success, failed, canceled or timed_out)\n";
            return exit_usage;
        }
    }
    auto store = open_for_reading(options);
    if (!store) {
        return exit_invalid;
    }
    scheduler::run_filter filter;
    if (!options.job.empty()) {
        filter.job = options.job;
    }
    filter.state = state;
    filter.limit = static_cast<std::size_t>(options.limit);
    auto page = store->list_runs(filter);
    if (!page) {
        std::cerr << "sluice: " << page.error().message << "\n";
        return exit_invalid;
    }
    if (options.json) {
        nlohmann::json runs = nlohmann::json::array();
        for (const auto& r : page->runs) {
            runs.push_back(run_json(r));
        }
        std::cout << nlohmann::json{{"runs", runs}}.dump(2) << "\n";
    } else {
        print_run_table(page->runs, std::cout);
    }
    return exit_ok;
}

int run_runs_show(const runs_options& options) {
    auto store = open_for_reading(options);
    if (!store) {
        return exit_invalid;
    }
    auto run = store->get_run(core::run_id{options.run_id});
    if (!run) {
        std::cerr << "sluice: " << run.error().message << "\n";
        return exit_invalid;
    }
    if (!*run) {
        // The exit code the API's 404 gives `runs show --server`: the same question, the same
        // answer.
        std::cerr << "sluice: no run with id " << options.run_id << "\n";
        return exit_refused;
    }
    if (options.json) {
        auto j = run_json(**run);
        auto tasks = store->list_task_instances((*run)->id);
        if (!tasks) {
            std::cerr << "sluice: cannot read the tasks of run " << options.run_id << ": "
                      << tasks.error().message << "\n";
            return exit_invalid;
        }
        j["tasks"] = nlohmann::json::array();
        for (const auto& ti : *tasks) {
            j["tasks"].push_back(task_instance_json(ti));
        }
        std::cout << j.dump(2) << "\n";
    } else {
        print_run_report(*store, **run, std::cout, options.show_logs);
    }
    return exit_ok;
}

}  // namespace sluice::daemon
