// The event stream's ids and reconnection against the real binary on SQLite and PostgreSQL
// (docs/api.md, "Logs and events"): every streamed event's `id:` is its store id, and a client
// that reconnects with Last-Event-ID gets what happened while it was away once, in order,
// before the live events. The JSON form pages the stored events either way: oldest first after
// an id, or newest first before one (what the admin page's events view reads).

#include <algorithm>
#include <vector>

#include "http_api_support.hpp"
#include "tests/component/store/test_databases.hpp"

namespace sluice::test {
namespace {

std::string config_on(const std::string& url) {
    return "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"" + url +
           "\"\nshutdown_grace: 1s\n" + jobs_yaml;
}

// The stored events after `after`, oldest first (the JSON form of the same route).
std::vector<json> stored_after(std::uint16_t port, std::int64_t after) {
    std::vector<json> out;
    while (true) {
        auto r = http_call(port, "GET", "/api/v1/events?limit=1000&after=" + std::to_string(after),
                           "", {{"Accept", "application/json"}});
        REQUIRE(r.status == 200);
        const json page = body_of(r)["events"];
        if (page.empty()) {
            return out;
        }
        for (const auto& e : page) {
            out.push_back(e);
        }
        after = page.back()["id"].get<std::int64_t>();
    }
}

// Reads events until one with id `last` came (bounded); returns their ids, checking that each
// event's `id:` line is the id in its data.
std::vector<std::int64_t> ids_until(sse_reader& events, std::int64_t last) {
    std::vector<std::int64_t> ids;
    while (ids.empty() || ids.back() < last) {
        auto e = events.next(20s);
        REQUIRE(e);
        INFO(e->event << " " << e->data);
        REQUIRE_FALSE(e->id.empty());
        const json j = json::parse(e->data);
        CHECK(j["id"].get<std::int64_t>() == std::stoll(e->id));
        CHECK(j["kind"] == e->event);
        ids.push_back(std::stoll(e->id));
    }
    return ids;
}

std::vector<std::int64_t> ids_of(const std::vector<json>& events) {
    std::vector<std::int64_t> out;
    for (const auto& e : events) {
        out.push_back(e["id"].get<std::int64_t>());
    }
    return out;
}

// The stored events newest first, `limit` at a time, following next_before to the end; every
// page's next_before checked against the page.
std::vector<json> stored_newest_first(std::uint16_t port, const std::string& filter, int limit) {
    std::vector<json> out;
    std::string path = "/api/v1/events?order=newest_first&limit=" + std::to_string(limit) + filter;
    for (int pages = 0; pages < 1000; ++pages) {
        auto r = http_call(port, "GET", path, "", {{"Accept", "application/json"}});
        INFO(path << " " << r.body);
        REQUIRE(r.status == 200);
        const json body = body_of(r);
        REQUIRE(body.contains("next_before"));
        CHECK_FALSE(body.contains("next_after"));
        const json page = body["events"];
        CHECK(page.size() <= static_cast<std::size_t>(limit));
        for (const auto& e : page) {
            out.push_back(e);
        }
        if (body["next_before"].is_null()) {
            CHECK(page.size() < static_cast<std::size_t>(limit));
            return out;
        }
        REQUIRE(page.size() == static_cast<std::size_t>(limit));
        CHECK(body["next_before"] == page.back()["id"]);
        path = "/api/v1/events?before=" + std::to_string(body["next_before"].get<std::int64_t>()) +
               "&limit=" + std::to_string(limit) + filter;
    }
    FAIL("next_before never ended");
    return out;
}

std::vector<json> reversed(std::vector<json> events) {
    std::reverse(events.begin(), events.end());
    return events;
}
}  // namespace

TEMPLATE_TEST_CASE(
    "event stream ids are store ids and a reconnect with Last-Event-ID loses "
    "nothing and repeats nothing",
    "[e2e][http][sse]", sqlite_database, postgres_database) {
    TestType db;
    http_daemon d(config_on(db.url()));
    INFO(d.log());
    REQUIRE(d.port() != 0);

    std::int64_t seen_last = 0;
    {
        sse_reader events(d.port(), "/api/v1/events");
        REQUIRE(events.status() == 200);
        const auto run = trigger(d.port(), "hello");
        wait_finished(d.port(), run);
        const auto stored = stored_after(d.port(), 0);
        REQUIRE_FALSE(stored.empty());
        // Live events carry the ids the store gave them, in order.
        const auto live = ids_until(events, stored.back()["id"].get<std::int64_t>());
        CHECK(live == ids_of(stored));
        seen_last = live.back();
    }  // the client goes away

    // While it is away: two runs (with the audit records of their triggers).
    for (int i = 0; i < 2; ++i) {
        wait_finished(d.port(), trigger(d.port(), "hello"));
    }
    const auto missed = stored_after(d.port(), seen_last);
    REQUIRE(missed.size() >= 2 * 9);

    sse_reader again(d.port(), "/api/v1/events", {{"Last-Event-ID", std::to_string(seen_last)}});
    REQUIRE(again.status() == 200);
    const auto replayed = ids_until(again, missed.back()["id"].get<std::int64_t>());
    CHECK(replayed == ids_of(missed));

    // Then live, after the replay, nothing repeated.
    const auto run = trigger(d.port(), "hello");
    wait_finished(d.port(), run);
    const auto later = stored_after(d.port(), replayed.back());
    REQUIRE_FALSE(later.empty());
    CHECK(ids_until(again, later.back()["id"].get<std::int64_t>()) == ids_of(later));

    // A filtered stream replays only what its filter takes.
    sse_reader runs_only(d.port(), "/api/v1/events?kind=run.state&run=" + std::to_string(run),
                         {{"Last-Event-ID", std::to_string(seen_last)}});
    std::vector<std::string> states;
    for (int i = 0; i < 3; ++i) {
        auto e = runs_only.next(20s);
        REQUIRE(e);
        CHECK(e->event == "run.state");
        states.push_back(json::parse(e->data)["payload"].value("to", ""));
    }
    CHECK(states == std::vector<std::string>{"queued", "running", "success"});

    // An id this store never gave: a reset naming the newest id, then live.
    const std::int64_t newest = later.back()["id"].get<std::int64_t>();
    sse_reader future(d.port(), "/api/v1/events", {{"Last-Event-ID", "999999999"}});
    auto reset = future.next(20s);
    REQUIRE(reset);
    CHECK(reset->event == "reset");
    CHECK(std::stoll(reset->id) >= newest);
    CHECK(json::parse(reset->data)["id"].get<std::int64_t>() == std::stoll(reset->id));

    // Last-Event-ID is an event id or nothing.
    auto bad = http_call(d.port(), "GET", "/api/v1/events", "", {{"Last-Event-ID", "abc"}});
    CHECK(bad.status == 400);
}

TEMPLATE_TEST_CASE(
    "stored events page newest first with before: every event once, the latest first, and "
    "later events stay out of the pages behind",
    "[e2e][http][events]", sqlite_database, postgres_database) {
    TestType db;
    http_daemon d(config_on(db.url()));
    INFO(d.log());
    REQUIRE(d.port() != 0);
    for (int i = 0; i < 3; ++i) {
        wait_finished(d.port(), trigger(d.port(), "hello"));
    }
    const auto all = stored_after(d.port(), 0);
    REQUIRE(all.size() >= 3 * 9);

    // Every stored event, newest first, in pages of 4 (and one page larger than the store).
    CHECK(stored_newest_first(d.port(), "", 4) == reversed(all));
    CHECK(stored_newest_first(d.port(), "", 1000) == reversed(all));
    // A hot kind (walks the primary key) and a rare one (its (kind, id) index), backwards.
    for (const std::string kind : {"run.state", "audit"}) {
        INFO(kind);
        std::vector<json> of_kind;
        for (const auto& e : all) {
            if (e["kind"] == kind) {
                of_kind.push_back(e);
            }
        }
        REQUIRE(of_kind.size() >= 3);
        CHECK(stored_newest_first(d.port(), "&kind=" + kind, 2) == reversed(of_kind));
    }

    // The first page is the latest; a page before its last id holds only older events, even
    // when newer ones were stored in between (a reader paging back never sees one twice).
    auto first = http_call(d.port(), "GET", "/api/v1/events?order=newest_first&limit=5", "",
                           {{"Accept", "application/json"}});
    REQUIRE(first.status == 200);
    const json first_page = body_of(first);
    CHECK(first_page["events"][0]["id"] == all.back()["id"]);
    wait_finished(d.port(), trigger(d.port(), "hello"));
    auto second = http_call(d.port(), "GET",
                            "/api/v1/events?limit=5&before=" + first_page["next_before"].dump(), "",
                            {{"Accept", "application/json"}});
    REQUIRE(second.status == 200);
    const json second_page = body_of(second)["events"];
    REQUIRE(second_page.size() == 5);
    for (std::size_t i = 0; i < second_page.size(); ++i) {
        CHECK(second_page[i] == all[all.size() - 6 - i]);
    }

    // Direction and bounds are checked, not guessed.
    for (const std::string bad :
         {"order=newest_first&after=3", "order=oldest_first&before=3", "before=abc", "before=0",
          "order=sideways", "limit=1001", "limit=0", "before=5&limit=-1"}) {
        INFO(bad);
        auto r = http_call(d.port(), "GET", "/api/v1/events?" + bad, "",
                           {{"Accept", "application/json"}});
        CHECK(r.status == 400);
        CHECK(error_code(r) == "bad_request");
    }
    auto most = http_call(d.port(), "GET", "/api/v1/events?order=newest_first&limit=1000", "",
                          {{"Accept", "application/json"}});
    CHECK(most.status == 200);
}

}  // namespace sluice::test
