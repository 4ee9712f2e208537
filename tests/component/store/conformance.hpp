#pragma once

// Shared helpers of the run_store conformance suite. Every TEMPLATE_TEST_CASE runs once per
// engine (sqlite_database, postgres_database): one suite, two implementations.

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scheduler/run_store.hpp"
#include "tests/component/store/test_databases.hpp"

namespace sluice::test {

using namespace std::chrono_literals;

// A fixed instant with microsecond precision (what both stores keep).
inline core::time_point at(std::int64_t seconds, std::int64_t micros = 0) {
    return core::time_point{std::chrono::seconds{1'800'000'000 + seconds} +
                            std::chrono::microseconds{micros}};
}

template <class T>
T ok(core::result<T> r) {
    if (!r) {
        FAIL("store call failed: " << r.error().message);
    }
    if constexpr (!std::is_void_v<T>) {
        return std::move(*r);
    }
}

inline scheduler::new_run make_run(const std::string& job, const std::string& key,
                                   std::vector<std::string> tasks = {"extract", "load"}) {
    scheduler::new_run run;
    run.job = job;
    run.run_key = key;
    run.trigger = scheduler::trigger_kind::manual;
    run.params_json = R"({"day":"2026-01-01"})";
    run.created_at = at(0);
    for (auto& t : tasks) {
        run.tasks.push_back({t, 3});
    }
    return run;
}

// task_transition with its optional fields absent.
inline scheduler::task_transition task_move(core::task_instance_id id, scheduler::task_state from,
                                            std::int64_t epoch, scheduler::task_state to,
                                            core::time_point when) {
    scheduler::task_transition t;
    t.task = id;
    t.from = from;
    t.epoch = epoch;
    t.to = to;
    t.at = when;
    return t;
}

inline std::vector<scheduler::transition_outcome> apply(scheduler::run_store& store,
                                                        std::vector<scheduler::transition> batch) {
    return ok(store.apply(batch));
}

constexpr auto applied = scheduler::transition_outcome::applied;
constexpr auto conflict = scheduler::transition_outcome::conflict;

}  // namespace sluice::test

#define STORE_TEST(name, tags) \
    TEMPLATE_TEST_CASE(name, tags, sluice::test::sqlite_database, sluice::test::postgres_database)
