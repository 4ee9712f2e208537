// Durable dispatch throughput (docs/benchmarks.md): the real engine, store, group-commit writer
// and `noop` task kind, as `sluice serve` composes them, on SQLite or PostgreSQL.
//
//   backlog: N single-task runs are written to the store as queued (setup, not timed), then the
//            engine starts, adopts them and runs them all; figure = task executions per second.
//   chain:   one run of a job whose M noop tasks each depend on the previous; figure = run time.
//
// Usage: dispatch_bench --store URL [--runs N] [--chain M] [--workers W] [--max-active-runs R]
// Prints one JSON object per scenario on stdout. On a shared machine wall time is noisy; the CPU
// seconds spent per task are steadier: the bench's own (client_cpu_seconds) and, for a
// PostgreSQL server on this host, its backends' for the bench's database (server_cpu_seconds,
// read from /proc; -1 when not visible).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "config/loader.hpp"
#include "core/clock.hpp"
#include "core/logging.hpp"
#include "etl/registry.hpp"
#include "scheduler/engine.hpp"
#include "store/open_store.hpp"
#include "store/store_writer.hpp"

namespace {

using namespace sluice;
using clock_type = std::chrono::steady_clock;

struct options {
    std::string store_url;
    int runs = 20000;
    int chain = 1000;
    int workers = 8;
    int max_active_runs = 256;
};

// CPU seconds (user + system) this process used so far.
double own_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// CPU seconds used so far by the PostgreSQL backends of database `db` on this host (their
// process titles read "postgres: USER DB ..."), or -1 when none is visible.
double server_cpu_seconds(const std::string& db) {
    if (db.empty()) {
        return -1;
    }
    double total = -1;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        std::ifstream cmdline(entry.path() / "cmdline");
        std::string title;
        std::getline(cmdline, title, '\0');
        if (!title.starts_with("postgres: ") || title.find(" " + db + " ") == std::string::npos) {
            continue;
        }
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        std::getline(stat, line);
        // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
        std::istringstream rest(line.substr(line.rfind(')') + 2));
        std::string field;
        long long utime = 0;
        long long stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) {
                utime = std::stoll(field);
            } else if (i == 15) {
                stime = std::stoll(field);
            }
        }
        total = std::max(total, 0.0) + static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
    }
    return total;
}

// The database name of a postgresql:// URL; empty for other stores.
std::string database_of(const std::string& url) {
    if (!url.starts_with("postgres")) {
        return {};
    }
    std::string db = url.substr(url.rfind('/') + 1);
    return db.substr(0, db.find('?'));
}

[[noreturn]] void die(const std::string& message) {
    std::cerr << "dispatch_bench: " << message << "\n";
    std::exit(1);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                die("missing value for " + arg);
            }
            return argv[++i];
        };
        if (arg == "--store") {
            o.store_url = value();
        } else if (arg == "--runs") {
            o.runs = std::stoi(value());
        } else if (arg == "--chain") {
            o.chain = std::stoi(value());
        } else if (arg == "--workers") {
            o.workers = std::stoi(value());
        } else if (arg == "--max-active-runs") {
            o.max_active_runs = std::stoi(value());
        } else {
            die("unknown argument " + arg);
        }
    }
    if (o.store_url.empty()) {
        die("--store URL is required (sqlite://PATH or postgresql://...)");
    }
    return o;
}

config::sluice_config bench_config(const options& o) {
    std::string yaml =
        "workers: " + std::to_string(o.workers) +
        "\njobs:\n  one:\n    max_active_runs: " + std::to_string(o.max_active_runs) +
        "\n    tasks:\n      t: {type: noop}\n  chain:\n    tasks:\n";
    for (int i = 0; i < std::max(o.chain, 1); ++i) {
        yaml += "      t" + std::to_string(i) + ": {type: noop";
        if (i > 0) {
            yaml += ", depends_on: [t" + std::to_string(i - 1) + "]";
        }
        yaml += "}\n";
    }
    auto loaded = config::load_string(yaml, "bench.yaml", {});
    if (!loaded.config) {
        die("bench config invalid: " + config::format_diagnostic(loaded.diagnostics.front()));
    }
    return *loaded.config;
}

std::unique_ptr<scheduler::run_store> open(const std::string& url) {
    auto store = store::open_store(url);
    if (!store) {
        die(store.error().message);
    }
    if (auto m = (*store)->migrate(); !m) {
        die(m.error().message);
    }
    return std::move(*store);
}

// The daemon's composition (daemon/service.cpp) without the daemon.
class harness {
public:
    harness(const config::sluice_config& cfg, scheduler::run_store& store) : store_(store) {
        writer_ = std::make_unique<store::store_writer>(store_);
        etl::register_builtin_task_kinds(kinds_);
        auto noop = kinds_.create("noop");
        if (!noop) {
            die(noop.error().message);
        }
        noop_ = std::move(*noop);
        scheduler::engine_options eo;
        eo.instance_id = "bench";
        eo.run_schedules = false;
        store::store_writer* writer = writer_.get();
        scheduler::engine_dependencies deps{
            cfg,
            store_,
            [writer](std::vector<scheduler::transition> t, scheduler::transitions_done done) {
                writer->submit(std::move(t), std::move(done));
            },
            [this](const config::task_spec&)
                -> core::result<std::shared_ptr<scheduler::task_runner>> { return noop_; },
            clock_,
            loop_,
        };
        deps.submit_runs = [writer](std::vector<scheduler::run_creation> runs,
                                    scheduler::runs_created done) {
            writer->submit_runs(std::move(runs), std::move(done));
        };
        engine_ = std::make_unique<scheduler::engine>(deps, eo);
        engine_->set_event_observer([this](const scheduler::new_event& e) {
            if (e.kind == "run.state" && e.payload_json.find("\"success\"") != std::string::npos) {
                finished_.fetch_add(1);
            }
        });
        thread_ = std::thread([this] { loop_.run(); });
    }
    ~harness() {
        engine_->shutdown();
        work_.reset();
        loop_.stop();
        thread_.join();
        engine_.reset();
        writer_.reset();
    }
    scheduler::engine& engine() { return *engine_; }
    int finished() const { return finished_.load(); }

private:
    scheduler::run_store& store_;
    core::system_clock clock_;
    etl::registry kinds_;
    std::shared_ptr<scheduler::task_runner> noop_;
    std::unique_ptr<store::store_writer> writer_;
    boost::asio::io_context loop_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        loop_.get_executor()};
    std::unique_ptr<scheduler::engine> engine_;
    std::atomic<int> finished_{0};
    std::thread thread_;
};

void backlog(const options& o, const config::sluice_config& cfg) {
    auto store = open(o.store_url);
    const auto now = std::chrono::system_clock::now();
    const auto setup_start = clock_type::now();
    for (int i = 0; i < o.runs; ++i) {
        scheduler::new_run run;
        run.job = "one";
        run.run_key =
            "bench:" + std::to_string(now.time_since_epoch().count()) + ":" + std::to_string(i);
        run.created_at = now;
        run.tasks.push_back({"t", 1});
        if (auto created = store->create_run(run); !created) {
            die("create_run: " + created.error().message);
        }
    }
    const double setup_s = std::chrono::duration<double>(clock_type::now() - setup_start).count();

    harness h(cfg, *store);
    const std::string db = database_of(o.store_url);
    const double server_cpu_start = server_cpu_seconds(db);
    const double client_cpu_start = own_cpu_seconds();
    const auto start = clock_type::now();
    if (auto started = h.engine().start(); !started) {
        die(started.error().message);
    }
    while (h.finished() < o.runs) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const double s = std::chrono::duration<double>(clock_type::now() - start).count();
    const double client_cpu = own_cpu_seconds() - client_cpu_start;
    const double server_cpu_end = server_cpu_seconds(db);
    const double server_cpu =
        server_cpu_start < 0 || server_cpu_end < 0 ? -1 : server_cpu_end - server_cpu_start;
    std::cout << "{\"scenario\":\"backlog\",\"store\":\""
              << o.store_url.substr(0, o.store_url.find(':')) << "\",\"runs\":" << o.runs
              << ",\"workers\":" << o.workers << ",\"max_active_runs\":" << o.max_active_runs
              << ",\"setup_seconds\":" << setup_s << ",\"seconds\":" << s
              << ",\"tasks_per_second\":" << o.runs / s << ",\"client_cpu_seconds\":" << client_cpu
              << ",\"server_cpu_seconds\":" << server_cpu << "}" << std::endl;
}

void chain(const options& o, const config::sluice_config& cfg) {
    auto store = open(o.store_url);
    harness h(cfg, *store);
    if (auto started = h.engine().start(); !started) {
        die(started.error().message);
    }
    const auto start = clock_type::now();
    scheduler::trigger_request request;
    request.job = "chain";
    request.actor = "bench";
    auto triggered = h.engine().trigger(request);
    if (!triggered) {
        die(triggered.error().message);
    }
    auto done = h.engine().wait_run(triggered->run);
    const double s = std::chrono::duration<double>(clock_type::now() - start).count();
    if (!done || done->state != scheduler::run_state::success) {
        die("the chain run did not succeed");
    }
    std::cout << "{\"scenario\":\"chain\",\"store\":\""
              << o.store_url.substr(0, o.store_url.find(':')) << "\",\"tasks\":" << o.chain
              << ",\"seconds\":" << s << ",\"tasks_per_second\":" << o.chain / s << "}"
              << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    if (auto set = sluice::core::setup_logging({sluice::core::log_format::text, "warn"}); !set) {
        die(set.error().message);
    }
    const auto cfg = bench_config(o);
    if (o.runs > 0) {
        backlog(o, cfg);
    }
    if (o.chain > 0) {
        chain(o, cfg);
    }
    return 0;
}
