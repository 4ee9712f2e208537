// The run_store conformance suite: a job's runs × tasks grid (run_store::job_grid).

// GCC 12 reports the epochs of transition variants moved by an inlined vector reallocation as
// maybe uninitialized (they have initializers: a known -O2 false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::run_state;
using scheduler::task_state;

STORE_TEST("job_grid pages a job's runs newest first with each task's state and try", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    std::vector<core::run_id> etl;
    for (int i = 0; i < 5; ++i) {
        etl.push_back(ok(store->create_run(make_run("etl", "e" + std::to_string(i)))).id);
        ok(store->create_run(make_run("other", "o" + std::to_string(i), {"x"})));
    }
    // Run 1's extract ran twice and failed; its run failed.
    auto tasks = ok(store->list_task_instances(etl[1]));
    REQUIRE(tasks.size() == 2);
    auto running = task_move(tasks[0].id, task_state::pending, 0, task_state::running, at(1));
    running.try_number = 2;
    apply(*store,
          {running, task_move(tasks[0].id, task_state::running, 0, task_state::failed, at(2)),
           scheduler::run_transition{etl[1], run_state::queued, run_state::failed, at(2)}});

    auto first = ok(store->job_grid("etl", 3, std::nullopt));
    REQUIRE(first.runs.size() == 3);
    CHECK(first.runs[0].id == etl[4]);
    CHECK(first.runs[2].id == etl[2]);
    REQUIRE(first.next_cursor);
    CHECK(*first.next_cursor == etl[2]);
    REQUIRE(first.tasks.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(first.tasks[i].run == first.runs[i / 2].id);
        CHECK(first.tasks[i].task == (i % 2 == 0 ? "extract" : "load"));
        CHECK(first.tasks[i].state == task_state::pending);
        CHECK(first.tasks[i].try_number == 0);
    }

    auto second = ok(store->job_grid("etl", 3, first.next_cursor));
    REQUIRE(second.runs.size() == 2);
    CHECK_FALSE(second.next_cursor);
    CHECK(second.runs[0].id == etl[1]);
    CHECK(second.runs[0].state == run_state::failed);
    CHECK(second.runs[1].id == etl[0]);
    REQUIRE(second.tasks.size() == 4);
    CHECK(second.tasks[0].run == etl[1]);
    CHECK(second.tasks[0].task == "extract");
    CHECK(second.tasks[0].state == task_state::failed);
    CHECK(second.tasks[0].try_number == 2);
    CHECK(second.tasks[1].state == task_state::pending);

    // Exactly one page: no cursor. Unknown job: nothing.
    auto whole = ok(store->job_grid("etl", 5, std::nullopt));
    CHECK(whole.runs.size() == 5);
    CHECK_FALSE(whole.next_cursor);
    auto none = ok(store->job_grid("nope", 25, std::nullopt));
    CHECK(none.runs.empty());
    CHECK(none.tasks.empty());
    CHECK_FALSE(none.next_cursor);
}

}  // namespace
}  // namespace sluice::test
