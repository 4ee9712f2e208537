#include "tests/component/etl/attempt_fixture.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

namespace sluice::test {

temp_dir::temp_dir() {
    static std::atomic<int> counter{0};
    const char* tmp = std::getenv("TMPDIR");
    std::random_device rd;
    path_ = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") /
            ("sluice_etl_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
             "_" + std::to_string(rd() % 100000));
    std::filesystem::create_directories(path_);
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

attempt_fixture::attempt_fixture(const std::string& yaml, const std::string& job_name) {
    auto loaded = config::load_string(yaml, (dir_.path() / "test.yaml").string(), {});
    if (!loaded.config) {
        std::string all;
        for (const auto& d : loaded.diagnostics) {
            all += d.message + "\n";
        }
        FAIL("configuration does not load:\n" << yaml << "\n" << all);
    }
    config_ = std::move(*loaded.config);
    const config::job_spec* job = config_.find_job(job_name);
    REQUIRE(job != nullptr);
    const config::task_spec* task = job->find_task("t");
    REQUIRE(task != nullptr);
    context_ = std::make_unique<scheduler::task_context>(scheduler::task_context{
        config_,
        *job,
        *task,
        core::run_id{42},
        core::task_instance_id{7},
        1,
        std::nullopt,
        std::nullopt,
        std::nullopt,
        {},
        {},
        {},
        std::nullopt,
        stop_,
        clock_,
        [this](scheduler::output_line line) {
            std::lock_guard lock(mutex_);
            lines_.push_back(std::move(line));
        },
        [this](std::string_view name, double value) {
            std::lock_guard lock(mutex_);
            metrics_.emplace_back(std::string(name), value);
        },
    });
}

std::vector<scheduler::output_line> attempt_fixture::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
}

std::vector<std::string> attempt_fixture::texts(scheduler::output_line::stream source) const {
    std::vector<std::string> out;
    for (const auto& line : lines()) {
        if (line.source == source) {
            out.push_back(line.text);
        }
    }
    return out;
}

std::vector<std::pair<std::string, double>> attempt_fixture::metrics() const {
    std::lock_guard lock(mutex_);
    return metrics_;
}

scheduler::task_outcome attempt_fixture::run(scheduler::task_runner& runner) {
    const auto start = std::chrono::steady_clock::now();
    auto outcome = runner.run(*context_);
    elapsed_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return outcome;
}

std::string required_env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        FAIL(name << " is not set: run the tests through scripts/run-tests.sh (or make test), "
                     "which starts the test servers");
    }
    return value;
}

bool process_alive(int pid) {
    if (::kill(pid, 0) != 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // "pid (comm) S ...": the state follows the last ')'.
    const auto paren = text.rfind(')');
    return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] != 'Z';
}

}  // namespace sluice::test
