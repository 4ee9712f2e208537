#include "tests/component/scheduler/engine_fixture.hpp"

#include <future>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

namespace sluice::test {

config::sluice_config load_config(const std::string& yaml) {
    config::load_result loaded = config::load_string(yaml, "test.yaml", {});
    std::string problems;
    for (const auto& d : loaded.diagnostics) {
        problems += config::format_diagnostic(d) + "\n";
    }
    INFO(yaml << problems);
    REQUIRE(loaded.config.has_value());
    return *loaded.config;
}

scheduler::engine_options engine_fixture::default_options() {
    scheduler::engine_options o;
    o.instance_id = "test-instance";
    o.lease_duration = std::chrono::seconds(30);
    o.heartbeat_interval = std::chrono::milliseconds(200);
    o.max_timer_sleep = std::chrono::milliseconds(500);
    o.jitter_seed = 1;
    return o;
}

engine_fixture::engine_fixture(const std::string& url, const std::string& yaml,
                               scheduler::engine_options options)
    : url_(url), config_(load_config(yaml)), options_(std::move(options)) {}

engine_fixture::~engine_fixture() {
    if (engine_) {
        teardown(/*graceful=*/true);
    }
}

void engine_fixture::start() {
    store_.reset();
    store_ = open_migrated(url_);
    writer_ = std::make_unique<store::store_writer>(*store_);
    commits_ = 0;
    writer_->set_commit_observer([this](double) { ++commits_; });
    loop_ = std::make_unique<boost::asio::io_context>();
    work_ =
        std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
            loop_->get_executor());
    loop_thread_ = std::thread([this] { loop_->run(); });
    store::store_writer* writer = writer_.get();
    scheduler::engine_dependencies deps{
        config_,
        *store_,
        [writer](std::vector<scheduler::transition> batch, scheduler::transitions_done done) {
            writer->submit(std::move(batch), std::move(done));
        },
        [script = script_, runners = runners_](const config::task_spec& task)
            -> core::result<std::shared_ptr<scheduler::task_runner>> {
            if (auto it = runners.find(task.type); it != runners.end()) {
                return it->second;
            }
            return make_fake_runner(script);
        },
        *clock_,
        *loop_,
    };
    deps.submit_runs = [writer](std::vector<scheduler::run_creation> runs,
                                scheduler::runs_created done) {
        writer->submit_runs(std::move(runs), std::move(done));
    };
    engine_ = std::make_unique<scheduler::engine>(std::move(deps), options_);
    engine_->set_event_observer([this](const scheduler::new_event& e) {
        std::lock_guard lock(observed_mutex_);
        observed_.push_back(e);
    });
    auto started = engine_->start();
    INFO((started ? std::string() : started.error().message));
    REQUIRE(started.has_value());
}

core::manual_clock& engine_fixture::use_manual_clock(core::time_point start) {
    manual_clock_ = std::make_unique<core::manual_clock>(start);
    clock_ = manual_clock_.get();
    return *manual_clock_;
}

void engine_fixture::stop() {
    teardown(true);
}

void engine_fixture::crash() {
    teardown(false);
}

void engine_fixture::teardown(bool graceful) {
    if (graceful) {
        engine_->shutdown();
    }
    work_.reset();
    loop_->stop();
    loop_thread_.join();
    engine_.reset();
    writer_.reset();
    loop_.reset();
    // The store stays open so a test can read what was left behind; start() reopens it.
}

core::run_id engine_fixture::trigger(const std::string& job,
                                     std::map<std::string, std::string> params) {
    scheduler::trigger_request request;
    request.job = job;
    request.params = std::move(params);
    request.actor = "test";
    auto r = engine_->trigger(std::move(request));
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.has_value());
    return r->run;
}

scheduler::run_record engine_fixture::wait(core::run_id run, std::chrono::milliseconds limit) {
    auto promise = std::make_shared<std::promise<core::result<scheduler::run_record>>>();
    auto future = promise->get_future();
    engine_->async_wait_run(run, [promise](core::result<scheduler::run_record> r) {
        promise->set_value(std::move(r));
    });
    if (future.wait_for(limit) != std::future_status::ready) {
        FAIL("run " << run.value << " did not finish within " << limit.count() << " ms");
    }
    auto r = future.get();
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.has_value());
    return *r;
}

std::map<std::string, scheduler::task_instance_record> engine_fixture::tasks(core::run_id run) {
    auto list = store_->list_task_instances(run);
    REQUIRE(list.has_value());
    std::map<std::string, scheduler::task_instance_record> out;
    for (auto& t : *list) {
        out[t.task] = t;
    }
    return out;
}

std::vector<scheduler::run_record> engine_fixture::runs(const std::string& job) {
    scheduler::run_filter f;
    f.job = job;
    f.limit = 1000;
    auto page = store_->list_runs(f);
    REQUIRE(page.has_value());
    return page->runs;
}

std::vector<scheduler::event_record> engine_fixture::events(const std::string& kind) {
    auto e = store_->read_events(0, kind, 100000);
    REQUIRE(e.has_value());
    return *e;
}

bool engine_fixture::eventually(const std::function<bool()>& done,
                                std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done();
}

std::vector<scheduler::new_event> engine_fixture::observed() const {
    std::lock_guard lock(observed_mutex_);
    return observed_;
}

}  // namespace sluice::test
