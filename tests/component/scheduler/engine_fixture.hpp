#pragma once

// An engine on a real store (SQLite in a temp dir, or a fresh PostgreSQL database), a real
// store_writer, its own control-loop thread and fake task runners. `crash()` tears everything
// down the way kill -9 would look to the store; `restart()` opens the same store again.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "config/spec.hpp"
#include "scheduler/engine.hpp"
#include "store/store_writer.hpp"
#include "tests/component/scheduler/fake_runner.hpp"
#include "tests/component/store/test_databases.hpp"

namespace sluice::test {

config::sluice_config load_config(const std::string& yaml);

class engine_fixture {
public:
    engine_fixture(const std::string& url, const std::string& yaml,
                   scheduler::engine_options options = default_options());
    ~engine_fixture();

    static scheduler::engine_options default_options();

    // Makes the engine read this clock instead of the system clock (call before start()).
    core::manual_clock& use_manual_clock(core::time_point start);
    // Runs tasks of `type` with `runner` instead of the fake runner (call before start()).
    void use_runner(config::task_type type, std::shared_ptr<scheduler::task_runner> runner) {
        runners_[type] = std::move(runner);
    }
    // The options of the next start() (another process's identity, say).
    scheduler::engine_options& options() { return options_; }
    // Replaces the configuration used by the next start() (a deploy between restarts).
    void reconfigure(const std::string& yaml) { config_ = load_config(yaml); }

    // Opens the store, starts the loop and the engine; fails the test on an error.
    void start();
    // Graceful: engine shutdown, then teardown.
    void stop();
    // Abrupt: the loop stops, the engine is destroyed without shutdown.
    void crash();

    scheduler::engine& engine() { return *engine_; }
    // The store of the last start(); still open after stop() and crash().
    scheduler::run_store& store() { return *store_; }
    fake_script& script() { return *script_; }
    const config::sluice_config& config() const { return config_; }

    core::run_id trigger(const std::string& job, std::map<std::string, std::string> params = {});
    // Waits (at most `limit`) for the run to finish; fails the test on timeout.
    scheduler::run_record wait(core::run_id run,
                               std::chrono::milliseconds limit = std::chrono::seconds(20));
    std::map<std::string, scheduler::task_instance_record> tasks(core::run_id run);
    std::vector<scheduler::run_record> runs(const std::string& job);
    std::vector<scheduler::event_record> events(const std::string& kind);
    // Polls `done` every 5 ms for up to `limit`; false on timeout.
    static bool eventually(const std::function<bool()>& done,
                           std::chrono::milliseconds limit = std::chrono::seconds(10));
    std::vector<scheduler::new_event> observed() const;
    // Commits of the store writer since start() (every group-commit transaction).
    int commits() const { return commits_.load(); }

private:
    void teardown(bool graceful);

    std::string url_;
    config::sluice_config config_;
    scheduler::engine_options options_;
    std::shared_ptr<fake_script> script_ = std::make_shared<fake_script>();
    std::map<config::task_type, std::shared_ptr<scheduler::task_runner>> runners_;
    std::unique_ptr<scheduler::run_store> store_;
    std::unique_ptr<store::store_writer> writer_;
    std::unique_ptr<boost::asio::io_context> loop_;
    std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread loop_thread_;
    std::unique_ptr<scheduler::engine> engine_;
    core::system_clock system_clock_;
    std::unique_ptr<core::manual_clock> manual_clock_;
    const core::clock* clock_ = &system_clock_;
    std::atomic<int> commits_{0};
    mutable std::mutex observed_mutex_;
    std::vector<scheduler::new_event> observed_;
};

}  // namespace sluice::test
