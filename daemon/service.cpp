#include "daemon/service.hpp"

#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "connectors/connector_registry.hpp"
#include "core/clock.hpp"
#include "core/logging.hpp"
#include "core/time.hpp"
#include "daemon/load_config.hpp"
#include "daemon/process_identity.hpp"
#include "etl/copy_bounds.hpp"
#include "etl/registry.hpp"
#include "scheduler/node_registry.hpp"
#include "store/engine_lock.hpp"
#include "store/open_store.hpp"
#include "store/store_writer.hpp"

namespace sluice::daemon {
namespace {

// A database that is still starting gets this long before the daemon gives up.
constexpr auto store_open_budget = std::chrono::seconds(30);
constexpr auto store_open_first_delay = std::chrono::milliseconds(250);

core::result<std::unique_ptr<scheduler::run_store>> open_migrated_store(
    const config::store_spec& spec) {
    const auto log = core::component_logger("store");
    const auto deadline = std::chrono::steady_clock::now() + store_open_budget;
    auto delay = std::chrono::milliseconds(store_open_first_delay);
    while (true) {
        auto opened = store::open_store(store_url(spec), store_options_of(spec));
        core::error failure;
        if (opened) {
            auto migrated = (*opened)->migrate();
            if (migrated) {
                return std::move(*opened);
            }
            failure = migrated.error();
        } else {
            failure = opened.error();
        }
        if (failure.cls == core::error_class::permanent ||
            std::chrono::steady_clock::now() + delay > deadline) {
            return failure;
        }
        log->warn("store not reachable yet, retrying in {}ms: {}", delay.count(), failure.message);
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(4000));
    }
}

}  // namespace

struct service::parts {
    // First, so it is released last: after the store and every attempt are gone.
    std::unique_ptr<store::engine_lock> lock;
    const config::sluice_config& config;
    core::system_clock clock;
    std::unique_ptr<scheduler::run_store> store;
    std::unique_ptr<store::store_writer> writer;
    etl::registry kinds;
    // Sources and sinks by connection type, for the copy task kind (docs/etl.md).
    connectors::connector_registry connectors;
    // One runner per task kind: runners are thread-safe and stateless between attempts.
    std::mutex runners_mutex;
    std::map<config::task_type, std::shared_ptr<scheduler::task_runner>> runners;
    boost::asio::io_context loop;
    std::unique_ptr<scheduler::engine> engine;

    explicit parts(const config::sluice_config& c) : config(c) {}

    // The group-commit writer as the engine and the API submit to it.
    scheduler::transition_submitter submitter() {
        return [this](std::vector<scheduler::transition> t, scheduler::transitions_done done) {
            writer->submit(std::move(t), std::move(done));
        };
    }

    core::result<std::shared_ptr<scheduler::task_runner>> runner_for(const config::task_spec& t) {
        std::lock_guard lock(runners_mutex);
        if (auto it = runners.find(t.type); it != runners.end()) {
            return it->second;
        }
        auto created = kinds.create(config::to_string(t.type));
        if (!created) {
            return created.error();
        }
        std::shared_ptr<scheduler::task_runner> shared = std::move(*created);
        runners.emplace(t.type, shared);
        return shared;
    }
};

core::result<std::unique_ptr<service>> service::open(const config::sluice_config& config,
                                                     const service_options& options) {
    auto p = std::make_unique<parts>(config);
    const process_identity& me = process_identity::self();
    const std::string instance_id = options.instance_id.empty() ? me.id() : options.instance_id;
    auto lock = store::engine_lock::acquire(
        store_url(config.store),
        options.role + " (pid " + std::to_string(me.pid) + " on " + me.host + ", since " +
            core::format_rfc3339_utc(
                std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())) +
            ", instance " + instance_id + ")");
    if (!lock) {
        return lock.error();
    }
    p->lock = std::move(*lock);
    auto store = open_migrated_store(config.store);
    if (!store) {
        return store.error();
    }
    p->store = std::move(*store);
    p->writer = std::make_unique<store::store_writer>(*p->store);
    connectors::register_builtin_connectors(p->connectors);
    etl::register_builtin_task_kinds(p->kinds, &p->connectors);

    scheduler::engine_options engine_options;
    engine_options.instance_id = instance_id;
    engine_options.instance_info_json = me.info_json();
    if (p->lock) {
        // The lock proves that no other process runs jobs on this store: whoever holds a lease
        // in it has exited.
        engine_options.lease_owner_gone = [](std::string_view, std::string_view) { return true; };
    } else {
        engine_options.lease_owner_gone = [](std::string_view, std::string_view info) {
            return lease_owner_gone(info);
        };
    }
    engine_options.keep_instance_row = !options.cluster_node;
    // A cluster node creates scheduled and backfill runs only while it holds the scheduler
    // lease, which its node membership claims (docs/cluster.md#the-scheduler).
    engine_options.elected_scheduler =
        options.cluster_node && dynamic_cast<scheduler::node_registry*>(p->store.get()) != nullptr;
    engine_options.run_schedules = options.run_schedules;
    engine_options.run_backfills = options.run_schedules;
    engine_options.reconcile_unfinished = options.run_schedules;
    parts* raw = p.get();
    scheduler::engine_dependencies deps{
        config,         *p->store,
        p->submitter(), [raw](const config::task_spec& t) { return raw->runner_for(t); },
        p->clock,       p->loop,
    };
    deps.backfill_bounds = etl::copy_read_bounds;  // dry runs say what copy tasks would read
    deps.submit_runs = [raw](std::vector<scheduler::run_creation> runs,
                             scheduler::runs_created done) {
        raw->writer->submit_runs(std::move(runs), std::move(done));
    };
    p->engine = std::make_unique<scheduler::engine>(deps, engine_options);
    return std::unique_ptr<service>(new service(std::move(p)));
}

service::service(std::unique_ptr<parts> p) : parts_(std::move(p)) {}

service::~service() {
    // The engine first (it may still hold writer completions), then the writer drains into the
    // store, then the store closes.
    parts_->engine.reset();
    parts_->writer.reset();
    parts_->store.reset();
}

scheduler::engine& service::engine() {
    return *parts_->engine;
}
scheduler::run_store& service::store() {
    return *parts_->store;
}
scheduler::node_registry* service::nodes() {
    // A capability of the SQL stores beside run_store (scheduler/node_registry.hpp).
    return dynamic_cast<scheduler::node_registry*>(parts_->store.get());
}
bool service::exclusive() const {
    return parts_->lock != nullptr;
}
boost::asio::io_context& service::loop() {
    return parts_->loop;
}
scheduler::transition_submitter service::submitter() {
    return parts_->submitter();
}
void service::set_store_commit_observer(std::function<void(double)> observer) {
    parts_->writer->set_commit_observer(std::move(observer));
}

}  // namespace sluice::daemon
