// The daemon's retention thread on a real SQLite store: its first pass removes what the
// retention no longer keeps, in bounded batches, and it stops at once when destroyed even though
// its next pass is an hour away.
#include "daemon/pruner.hpp"

#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "store/open_store.hpp"

using namespace std::chrono_literals;
using namespace sluice;

namespace {

core::run_id finished_run(scheduler::run_store& store, const std::string& key,
                          core::time_point ended) {
    scheduler::new_run run;
    run.job = "etl";
    run.run_key = key;
    run.trigger = scheduler::trigger_kind::manual;
    run.created_at = ended - 1min;
    run.tasks.push_back({"load", 1});
    const auto id = store.create_run(run).value().id;
    const std::vector<scheduler::transition> moves = {
        scheduler::run_transition{id, scheduler::run_state::queued, scheduler::run_state::running,
                                  ended - 1min},
        scheduler::run_transition{id, scheduler::run_state::running, scheduler::run_state::success,
                                  ended}};
    REQUIRE(store.apply(moves).has_value());
    return id;
}

}  // namespace

TEST_CASE("cutoffs: a zero age keeps that kind forever", "[retention]") {
    const auto now = std::chrono::system_clock::now();
    const auto c = daemon::cutoffs_at(config::retention_spec{24h, 0ms, 1h}, now);
    REQUIRE(c.runs);
    CHECK(*c.runs == now - 24h);
    CHECK_FALSE(c.logs);
    REQUIRE(c.events);
    CHECK(*c.events == now - 1h);
    CHECK(daemon::cutoffs_at(config::retention_spec{0ms, 0ms, 0ms}, now).keeps_everything());
}

TEST_CASE("the pruner's first pass removes old finished runs; destroying it stops it",
          "[retention]") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("sluice_pruner_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto opened = store::open_store("sqlite://" + (dir / "store.db").string());
    REQUIRE(opened.has_value());
    auto& store = **opened;
    REQUIRE(store.migrate().has_value());
    const auto now = std::chrono::system_clock::now();
    std::vector<core::run_id> old;
    for (int i = 0; i < 5; ++i) {
        old.push_back(finished_run(store, "old" + std::to_string(i), now - 72h));
    }
    const auto recent = finished_run(store, "recent", now - 1h);

    {
        daemon::pruner p(store, config::retention_spec{24h, 0ms, 0ms},
                         daemon::pruner_options{10ms, 1h, 2, 1ms});
        for (int waited = 0; p.passes() < 1 && waited < 1000; ++waited) {
            std::this_thread::sleep_for(10ms);
        }
        REQUIRE(p.passes() == 1);
    }  // the next pass is an hour away: the destructor must not wait for it

    for (const auto id : old) {
        CHECK_FALSE(store.get_run(id).value().has_value());
    }
    CHECK(store.get_run(recent).value().has_value());
    opened->reset();
    std::filesystem::remove_all(dir);
}
