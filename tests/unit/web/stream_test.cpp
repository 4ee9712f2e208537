#include <catch2/catch.hpp>

#include "core/metrics.hpp"
#include "web/event_hub.hpp"
#include "web/service_metrics.hpp"

using namespace sluice;
using namespace sluice::web;

TEST_CASE("an event stream drops a client that falls behind its bound", "[web][sse]") {
    sse_stream s(3);
    CHECK(s.push("a"));
    CHECK(s.push("b"));
    CHECK(s.push("c"));
    CHECK_FALSE(s.push("d"));
    CHECK(s.overflowed());
    CHECK(s.closed());
    CHECK(s.empty());
}

TEST_CASE("an event stream stops producers once the client is gone", "[web][sse]") {
    sse_stream s(10);
    bool told = false;
    s.set_on_detach([&] { told = true; });
    s.detach();
    CHECK(told);
    CHECK_FALSE(s.push("x"));
}

TEST_CASE("the event hub filters by kind and run and forgets dropped clients", "[web][sse]") {
    event_hub hub;
    auto all = hub.subscribe(100, {}, 0, true);
    auto audits = hub.subscribe(100, {std::string("audit"), std::nullopt}, 0, true);
    auto run7 = hub.subscribe(100, {std::nullopt, 7}, 0, true);
    for (auto* s : {all.get(), audits.get(), run7.get()}) {
        s->take();  // the "subscribed" comment
    }
    scheduler::event_record e;
    e.id = 1;
    e.kind = "run.state";
    e.run = core::run_id{7};
    e.payload_json = R"({"from":"queued","to":"running"})";
    hub.deliver(e);
    e.id = 2;
    e.kind = "audit";
    e.run.reset();
    hub.deliver(e);
    CHECK(all->take().size() == 2);
    auto a = audits->take();
    REQUIRE(a.size() == 1);
    CHECK_THAT(a.front(), Catch::Matchers::StartsWith("id: 2\nevent: audit\ndata: {"));
    CHECK_THAT(a.front(), Catch::Matchers::Contains(R"("id":2)"));
    auto r = run7->take();
    REQUIRE(r.size() == 1);
    CHECK_THAT(r.front(), Catch::Matchers::Contains(R"("to":"running")"));
    all->detach();
    e.id = 3;
    hub.deliver(e);
    CHECK(hub.subscribers() == 2);
}

TEST_CASE("the event hub delivers each stored event once, after a replaying stream goes live",
          "[web][sse]") {
    event_hub hub;
    auto replaying = hub.subscribe(100, {}, 0, false);
    auto live = hub.subscribe(100, {}, 5, true);
    replaying->take();
    live->take();
    scheduler::event_record e;
    e.kind = "run.state";
    for (std::int64_t id : {4, 5, 6}) {
        e.id = id;
        hub.deliver(e);
    }
    CHECK(replaying->take().empty());  // not live yet
    auto got = live->take();
    REQUIRE(got.size() == 1);  // 4 and 5 are at or below its floor
    CHECK_THAT(got.front(), Catch::Matchers::StartsWith("id: 6\n"));
    // The replay read up to 7; the hub then delivers 7 again and 8: only 8 is new.
    hub.go_live(*replaying, 7);
    for (std::int64_t id : {6, 7, 8}) {
        e.id = id;
        hub.deliver(e);
    }
    got = replaying->take();
    REQUIRE(got.size() == 1);
    CHECK_THAT(got.front(), Catch::Matchers::StartsWith("id: 8\n"));
    CHECK(live->take().size() == 2);  // 7 and 8
    // Progress is not stored: it goes out without an id.
    scheduler::new_event progress;
    progress.kind = "task.progress";
    hub.deliver_unstored(progress);
    got = live->take();
    REQUIRE(got.size() == 1);
    CHECK_THAT(got.front(), Catch::Matchers::StartsWith("event: task.progress\ndata: {"));
}

TEST_CASE("histograms are cumulative with +Inf holding every observation", "[web][metrics]") {
    core::histogram h({0.1, 1});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    auto s = h.read();
    CHECK(s.cumulative == std::vector<std::uint64_t>{1, 2});
    CHECK(s.count == 3);
    CHECK(s.sum == Approx(5.55));
}

TEST_CASE("metrics count finished runs and task attempts from engine events", "[web][metrics]") {
    service_metrics m;
    scheduler::new_event e;
    e.job = "nightly";
    e.run = core::run_id{1};
    e.task = "load\"x";
    e.kind = "task.state";
    e.payload_json = R"({"from":"queued","to":"running","try":1})";
    m.observe(e);
    e.payload_json = R"({"from":"running","to":"failed","try":1})";
    m.observe(e);
    e.kind = "run.state";
    e.task.reset();
    e.payload_json = R"({"from":"running","to":"failed"})";
    m.observe(e);
    const std::string text = m.render(scheduler::engine_stats{});
    CHECK_THAT(text,
               Catch::Matchers::Contains(R"(sluice_runs_total{job="nightly",state="failed"} 1)"));
    CHECK_THAT(text,
               Catch::Matchers::Contains(
                   R"(sluice_task_attempts_total{job="nightly",task="load\"x",state="failed"} 1)"));
    CHECK_THAT(text, Catch::Matchers::Contains("sluice_task_duration_seconds_count 1"));
    CHECK_THAT(text, Catch::Matchers::Contains("# TYPE sluice_store_commit_seconds histogram"));
}

// Counting messages alone let 1024 log lines of 64 KiB each queue 64 MiB per slow client.
TEST_CASE("an event stream drops a client whose queue outgrows its byte bound", "[web][sse]") {
    sse_stream s(1000, 100);
    CHECK(s.push(std::string(60, 'a')));
    CHECK(s.push(std::string(40, 'b')));
    CHECK_FALSE(s.push("c"));
    CHECK(s.overflowed());
    CHECK(s.empty());

    sse_stream drained(1000, 100);
    CHECK(drained.push(std::string(90, 'a')));
    CHECK(drained.take().size() == 1);  // written out: the bound counts what is queued
    CHECK(drained.push(std::string(90, 'b')));
    CHECK_FALSE(drained.overflowed());
    // One chunk over the bound still goes out alone.
    sse_stream big(1000, 100);
    CHECK(big.push(std::string(500, 'x')));
    CHECK_FALSE(big.push("y"));
}
