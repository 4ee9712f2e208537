#include "scheduler/dispatch_queue.hpp"

#include <catch2/catch.hpp>

using namespace sluice;

namespace {

scheduler::dispatch_item item(std::int64_t id, std::string job,
                              std::optional<std::string> pool = {},
                              std::optional<int> max_active = {}, bool backfill = false) {
    scheduler::dispatch_item i;
    i.task = core::task_instance_id{id};
    i.run = core::run_id{1};
    i.job = std::move(job);
    i.pool = std::move(pool);
    i.max_active_tasks = max_active;
    i.backfill = backfill;
    return i;
}

std::vector<std::int64_t> ids(const std::vector<scheduler::dispatch_item>& items) {
    std::vector<std::int64_t> out;
    for (const auto& i : items) {
        out.push_back(i.task.value);
    }
    return out;
}

}  // namespace

TEST_CASE("dispatcher admits up to the global worker count in FIFO order", "[dispatch]") {
    scheduler::dispatch_queue q({2, {}});
    q.push(item(1, "a"));
    q.push(item(2, "a"));
    q.push(item(3, "b"));
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{1, 2});
    CHECK(q.admit().empty());
    CHECK(q.active() == 2);
    CHECK(q.release(core::task_instance_id{1}));
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{3});
    CHECK_FALSE(q.release(core::task_instance_id{99}));
}

TEST_CASE("dispatcher honours per job max_active_tasks without blocking other jobs", "[dispatch]") {
    scheduler::dispatch_queue q({10, {}});
    q.push(item(1, "a", {}, 1));
    q.push(item(2, "a", {}, 1));
    q.push(item(3, "b", {}, 1));
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{1, 3});
    CHECK(q.active_in_job("a") == 1);
    q.release(core::task_instance_id{1});
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{2});
}

TEST_CASE("dispatcher honours pool slots", "[dispatch]") {
    scheduler::dispatch_queue q({10, {{"db", 2}}});
    q.push(item(1, "a", "db"));
    q.push(item(2, "b", "db"));
    q.push(item(3, "c", "db"));
    q.push(item(4, "c", "unlisted"));
    q.push(item(5, "c"));
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{1, 2, 4, 5});
    CHECK(q.active_in_pool("db") == 2);
    q.release(core::task_instance_id{2});
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{3});
}

TEST_CASE("dispatcher runs scheduled and manual work before backfill", "[dispatch]") {
    scheduler::dispatch_queue q({1, {}});
    q.push(item(1, "a", {}, {}, true));
    q.push(item(2, "a", {}, {}, true));
    q.push(item(3, "a"));
    q.push(item(4, "b"));
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{3});
    q.release(core::task_instance_id{3});
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{4});
    q.release(core::task_instance_id{4});
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{1});
}

TEST_CASE("dispatcher removes queued items and ignores duplicates", "[dispatch]") {
    scheduler::dispatch_queue q({5, {}});
    q.push(item(1, "a"));
    q.push(item(1, "a"));
    q.push(item(2, "a"));
    CHECK(q.queued() == 2);
    CHECK(q.remove(core::task_instance_id{1}));
    CHECK_FALSE(q.remove(core::task_instance_id{1}));
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{2});
    q.push(item(2, "a"));  // already active: ignored
    CHECK(q.queued() == 0);
}

TEST_CASE("dispatcher admits at once only within limits and never ahead of a queued item",
          "[dispatch]") {
    scheduler::dispatch_queue q({2, {{"db", 1}}});
    CHECK(q.admit_now(item(1, "a", "db")));
    CHECK(q.active_in_pool("db") == 1);
    CHECK_FALSE(q.admit_now(item(2, "a", "db")));  // the pool is full
    q.push(item(2, "a", "db"));
    CHECK_FALSE(q.admit_now(item(3, "b")));  // item 2 waits ahead of it
    CHECK(q.release(core::task_instance_id{1}));
    CHECK(ids(q.admit()) == std::vector<std::int64_t>{2});
    CHECK(q.admit_now(item(3, "b")));
    CHECK(q.active() == 2);
    CHECK_FALSE(q.admit_now(item(4, "b")));  // every worker is busy
    // A waiting backfill item does not hold back a scheduled one.
    scheduler::dispatch_queue r({1, {}});
    r.push(item(5, "a", {}, {}, true));
    CHECK(r.admit_now(item(6, "b")));
    CHECK(r.release(core::task_instance_id{6}));
    CHECK(ids(r.admit()) == std::vector<std::int64_t>{5});
}

TEST_CASE("dispatcher gives an item admitted under a placeholder id its real one", "[dispatch]") {
    scheduler::dispatch_queue q({2, {{"db", 1}}});
    CHECK(q.admit_now(item(-1, "a", "db")));  // a task whose run is still being created
    CHECK_FALSE(q.rekey(core::task_instance_id{-7}, core::task_instance_id{10}, core::run_id{3}));
    CHECK(q.rekey(core::task_instance_id{-1}, core::task_instance_id{10}, core::run_id{3}));
    // Its slots stay taken, under the new id only.
    CHECK(q.active() == 1);
    CHECK(q.active_in_pool("db") == 1);
    CHECK(q.active_in_job("a") == 1);
    CHECK_FALSE(q.release(core::task_instance_id{-1}));
    CHECK(q.admit_now(item(-2, "b")));
    CHECK_FALSE(q.rekey(core::task_instance_id{-2}, core::task_instance_id{10}, core::run_id{4}));
    CHECK(q.release(core::task_instance_id{10}));
    CHECK(q.active_in_pool("db") == 0);
    CHECK(q.release(core::task_instance_id{-2}));
    CHECK(q.active() == 0);
}
