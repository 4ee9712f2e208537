// The run_store conformance suite: events as the event stream reads them (docs/api.md, "Logs
// and events"): the newest id, ids that become visible in order while several writers append,
// so a reader tailing by id never skips one, and pages read newest first before an id.

// GCC 12 reports the epochs of transition variants moved by an inlined vector reallocation as
// maybe uninitialized (they have initializers: a known -O2 false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <atomic>
#include <set>
#include <thread>

#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

STORE_TEST("last_event_id is 0 on an empty store, then the newest event's id", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    CHECK(ok(store->last_event_id()) == 0);
    auto first = ok(store->append_event(
        {at(1), "job.paused", "etl", std::nullopt, std::nullopt, "{}", "api:ops"}));
    CHECK(ok(store->last_event_id()) == first);
    auto run = ok(store->create_run(make_run("etl", "k")));
    apply(
        *store,
        {scheduler::new_event{at(2), "run.state", "etl", run.id, std::nullopt, "{}", "scheduler"},
         scheduler::new_event{at(2), "run.state", "etl", run.id, std::nullopt, "{}", "scheduler"}});
    const auto all = ok(store->read_events(0, std::nullopt, 10));
    REQUIRE(all.size() == 3);
    CHECK(ok(store->last_event_id()) == all.back().id);
}

STORE_TEST("read_events_before pages newest first, of one kind (hot or rare) or all", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    CHECK(ok(store->read_events_before(std::nullopt, std::nullopt, 10)).empty());
    auto run = ok(store->create_run(make_run("etl", "k")));
    std::vector<std::int64_t> all;
    std::vector<std::int64_t> paused;
    std::vector<std::int64_t> states;
    for (int i = 0; i < 6; ++i) {
        const bool rare = i % 3 == 0;
        const std::string kind = rare ? "job.paused" : "run.state";
        const auto id =
            ok(store->append_event({at(i), kind, "etl", rare ? std::nullopt : std::optional(run.id),
                                    std::nullopt, "{}", "test"}));
        all.insert(all.begin(), id);
        (rare ? paused : states).insert((rare ? paused : states).begin(), id);
    }
    const auto ids = [](const std::vector<scheduler::event_record>& events) {
        std::vector<std::int64_t> out;
        for (const auto& e : events) {
            out.push_back(e.id);
        }
        return out;
    };
    CHECK(ids(ok(store->read_events_before(std::nullopt, std::nullopt, 100))) == all);
    CHECK(ids(ok(store->read_events_before(std::nullopt, std::nullopt, 2))) ==
          std::vector<std::int64_t>(all.begin(), all.begin() + 2));
    CHECK(ids(ok(store->read_events_before(all[1], std::nullopt, 3))) ==
          std::vector<std::int64_t>(all.begin() + 2, all.begin() + 5));
    CHECK(ids(ok(store->read_events_before(all.back(), std::nullopt, 3))).empty());
    CHECK(ids(ok(store->read_events_before(std::nullopt, std::string_view("job.paused"), 10))) ==
          paused);
    CHECK(ids(ok(store->read_events_before(paused[0], std::string_view("job.paused"), 10))) ==
          std::vector<std::int64_t>(paused.begin() + 1, paused.end()));
    CHECK(ids(ok(store->read_events_before(states[0], std::string_view("run.state"), 2))) ==
          std::vector<std::int64_t>(states.begin() + 1, states.begin() + 3));
}

// Three writers (group-commit batches, run creations with their events, single audit appends:
// on PostgreSQL the first two share the pipeline connection, the third uses the pool) while a
// reader follows the table by id the way the event stream does. Every event the writers stored
// must have been seen by the reader, once, in id order.
STORE_TEST("a reader tailing events by id sees every event once while three writers append",
           "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k")));
    constexpr int rounds = 200;
    std::atomic<int> writers{3};
    auto event = [&](const char* kind) {
        return scheduler::new_event{at(1), kind, "etl", run.id, std::nullopt, "{}", "scheduler"};
    };
    std::thread batches([&] {
        for (int i = 0; i < rounds; ++i) {
            std::vector<scheduler::transition> batch(5, event("task.state"));
            ok(store->apply(batch));
        }
        --writers;
    });
    std::thread creations([&] {
        for (int i = 0; i < rounds; ++i) {
            scheduler::run_creation c{make_run("etl", "c" + std::to_string(i)),
                                      {event("run.state"), event("run.state")}};
            ok(store->write_batch(std::span(&c, 1),
                                  std::vector{scheduler::transition{event("task.state")}}));
        }
        --writers;
    });
    std::thread audits([&] {
        for (int i = 0; i < rounds; ++i) {
            ok(store->append_event(event("audit")));
        }
        --writers;
    });
    std::vector<std::int64_t> tailed;
    std::int64_t cursor = 0;
    bool last_pass = false;
    while (true) {
        last_pass = writers.load() == 0;
        const auto page = ok(store->read_events(cursor, std::nullopt, 1000));
        for (const auto& e : page) {
            tailed.push_back(e.id);
            cursor = e.id;
        }
        if (last_pass && page.size() < 1000) {
            break;
        }
    }
    batches.join();
    creations.join();
    audits.join();
    std::vector<std::int64_t> stored;
    std::int64_t after = 0;
    while (true) {
        auto page = ok(store->read_events(after, std::nullopt, 1000));
        if (page.empty()) {
            break;
        }
        for (const auto& e : page) {
            stored.push_back(e.id);
        }
        after = page.back().id;
    }
    CHECK(stored.size() == static_cast<std::size_t>(rounds * (5 + 3 + 1)));
    CHECK(tailed == stored);
    CHECK(ok(store->last_event_id()) == stored.back());
}

}  // namespace
}  // namespace sluice::test
