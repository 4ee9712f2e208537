// The run_store conformance suite, task outputs (docs/task-kinds.md#values-between-tasks):
// written with the success that publishes them, kept by every other transition, replaced by a
// later success, and as large as the per-run bound allows on both engines.

// GCC 12 reports the epochs of transition variants moved by an inlined vector reallocation as
// maybe uninitialized (they have initializers: a known -O2 false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <nlohmann/json.hpp>

#include "config/task_outputs.hpp"
#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::task_state;

// Starts the task's try `try_number` under `epoch` (the epoch before the lease).
std::vector<scheduler::transition> start(core::task_instance_id id, task_state from,
                                         std::int64_t epoch, int try_number, int second) {
    auto s = task_move(id, task_state::queued, epoch + 1, task_state::running, at(second));
    s.try_number = try_number;
    std::vector<scheduler::transition> batch;
    if (from != task_state::queued) {
        batch.push_back(task_move(id, from, epoch, task_state::queued, at(second)));
    }
    batch.push_back(scheduler::lease_acquire{id, epoch, "node-a", at(second + 100), at(second)});
    batch.push_back(s);
    return batch;
}

std::string outputs_of(scheduler::run_store& store, core::task_instance_id id) {
    return ok(store.get_task_instance(id))->outputs_json;
}

STORE_TEST("outputs commit with the success that publishes them, and only with it",
           "[store][outputs]") {
    TestType db;
    auto store = open_migrated(db.url());
    CHECK(ok(store->schema_version()) >= 8);
    auto run = ok(store->create_run(make_run("etl", "outputs", {"a", "b"})));
    auto tasks = ok(store->list_task_instances(run.id));
    const auto a = tasks[0].id;
    CHECK(tasks[0].outputs_json == "{}");
    CHECK(apply(*store, start(a, task_state::pending, 0, 1, 10)) ==
          std::vector{applied, applied, applied});

    // A success under a stale epoch conflicts: neither the state nor the outputs change.
    auto stale = task_move(a, task_state::running, 0, task_state::success, at(20));
    stale.outputs_json = R"({"batch_id":"stale"})";
    CHECK(apply(*store, {stale, scheduler::lease_release{a, 0, "node-a"}}) ==
          std::vector{conflict, conflict});
    CHECK(outputs_of(*store, a) == "{}");

    // The success and its outputs, in the fused end + release statement.
    auto end = task_move(a, task_state::running, 1, task_state::success, at(20));
    end.outputs_json = R"({"batch_id":"42","path":"s3://b/k \"q\" é"})";
    CHECK(apply(*store, {end, scheduler::lease_release{a, 1, "node-a"}}) ==
          std::vector{applied, applied});
    const auto stored = nlohmann::json::parse(outputs_of(*store, a));
    CHECK(stored == nlohmann::json{{"batch_id", "42"}, {"path", "s3://b/k \"q\" é"}});
    // Every read of task rows carries them: the run's list and startup's unfinished runs.
    CHECK(nlohmann::json::parse(ok(store->list_task_instances(run.id))[0].outputs_json) == stored);
    auto unfinished = ok(store->list_tasks_of_unfinished_runs());
    REQUIRE(unfinished.size() == 2);
    CHECK(nlohmann::json::parse(unfinished[0].outputs_json) == stored);
}

STORE_TEST("outputs are kept by other transitions and replaced by a later success",
           "[store][outputs]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "kept", {"up", "down"})));
    auto tasks = ok(store->list_task_instances(run.id));
    const auto up = tasks[0].id;
    const auto down = tasks[1].id;
    CHECK(apply(*store, start(up, task_state::pending, 0, 1, 10)) ==
          std::vector{applied, applied, applied});
    auto end = task_move(up, task_state::running, 1, task_state::success, at(11));
    end.outputs_json = R"({"n":"1"})";
    CHECK(apply(*store, {end, scheduler::lease_release{up, 1, "node-a"}}) ==
          std::vector{applied, applied});

    // The downstream task fails and is retried: the upstream row is not touched.
    CHECK(apply(*store, start(down, task_state::pending, 0, 1, 12)) ==
          std::vector{applied, applied, applied});
    auto failed = task_move(down, task_state::running, 1, task_state::up_for_retry, at(13));
    failed.error_cls = core::error_class::transient;
    failed.error_message = "boom";
    CHECK(apply(*store, {failed, scheduler::lease_release{down, 1, "node-a"},
                         scheduler::attempt_archive{down, 1, task_state::up_for_retry, at(13)}}) ==
          std::vector{applied, applied, applied});
    CHECK(nlohmann::json::parse(outputs_of(*store, up)) == nlohmann::json{{"n", "1"}});
    CHECK(outputs_of(*store, down) == "{}");

    // A transition without outputs (an operator's mark, say) keeps what is stored.
    CHECK(apply(*store, {task_move(up, task_state::success, 1, task_state::failed, at(14))}) ==
          std::vector{applied});
    CHECK(nlohmann::json::parse(outputs_of(*store, up)) == nlohmann::json{{"n", "1"}});
    // Its next success replaces them as a whole, also with nothing.
    CHECK(apply(*store, start(up, task_state::failed, 1, 2, 15)) ==
          std::vector{applied, applied, applied});
    auto again = task_move(up, task_state::running, 2, task_state::success, at(16));
    again.outputs_json = "{}";
    CHECK(apply(*store, {again, scheduler::lease_release{up, 2, "node-a"}}) ==
          std::vector{applied, applied});
    CHECK(nlohmann::json::parse(outputs_of(*store, up)).empty());
}

// Several tasks ending in one group commit (PostgreSQL merges same-shaped updates into one):
// each keeps its own outputs.
STORE_TEST("outputs of many tasks ending in one batch stay with their tasks", "[store][outputs]") {
    TestType db;
    auto store = open_migrated(db.url());
    std::vector<std::string> names;
    for (int i = 0; i < 20; ++i) {
        names.push_back("t" + std::to_string(i));
    }
    auto run = ok(store->create_run(make_run("etl", "many", names)));
    auto tasks = ok(store->list_task_instances(run.id));
    std::vector<scheduler::transition> starts;
    std::vector<scheduler::transition> ends;
    for (const auto& t : tasks) {
        auto s = start(t.id, task_state::pending, 0, 1, 10);
        starts.insert(starts.end(), s.begin(), s.end());
        auto e = task_move(t.id, task_state::running, 1, task_state::success, at(11));
        e.outputs_json = nlohmann::json{{"task", t.task}}.dump();
        ends.push_back(e);
        ends.push_back(scheduler::lease_release{t.id, 1, "node-a"});
    }
    ok(store->apply(starts));
    const auto outcomes = ok(store->apply(ends));
    CHECK(std::count(outcomes.begin(), outcomes.end(), applied) ==
          static_cast<std::ptrdiff_t>(outcomes.size()));
    for (const auto& t : ok(store->list_task_instances(run.id))) {
        CHECK(nlohmann::json::parse(t.outputs_json) == nlohmann::json{{"task", t.task}});
    }
}

// The engine bounds a run's outputs at config::max_outputs_per_run_bytes of JSON text; a task
// may hold all of it, in values at their own bound, and reads it back byte for byte.
STORE_TEST("a task's outputs at the run's bound are stored whole", "[store][outputs]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "big", {"a"})));
    const auto a = ok(store->list_task_instances(run.id))[0].id;
    nlohmann::json outputs = nlohmann::json::object();
    std::string text = outputs.dump();
    for (int i = 0; text.size() < config::max_outputs_per_run_bytes; ++i) {
        std::string value(config::max_output_value_bytes - 64, static_cast<char>('a' + i % 26));
        value += "\"\\\n\t\xc3\xa9";
        outputs["v" + std::to_string(i)] = value;
        text = outputs.dump();
        if (text.size() > config::max_outputs_per_run_bytes) {
            outputs.erase("v" + std::to_string(i));
            outputs["last"] =
                std::string(config::max_outputs_per_run_bytes - outputs.dump().size() - 10, 'z');
            text = outputs.dump();
            break;
        }
    }
    REQUIRE(text.size() <= config::max_outputs_per_run_bytes);
    REQUIRE(text.size() > config::max_outputs_per_run_bytes - 64);
    CHECK(apply(*store, start(a, task_state::pending, 0, 1, 10)) ==
          std::vector{applied, applied, applied});
    auto end = task_move(a, task_state::running, 1, task_state::success, at(11));
    end.outputs_json = text;
    CHECK(apply(*store, {end, scheduler::lease_release{a, 1, "node-a"}}) ==
          std::vector{applied, applied});
    CHECK(nlohmann::json::parse(outputs_of(*store, a)) == outputs);
}

}  // namespace
}  // namespace sluice::test
