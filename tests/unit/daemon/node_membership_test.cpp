// The daemon's node membership (docs/cluster.md) over a fake registry: heartbeats on their own
// timer, at most one in flight while the store is slow (ticks are skipped, not queued), a
// forgotten row written again, draining, a reload's hash, and `stopped` written behind the
// heartbeat in flight before leave() completes; the scheduler lease claimed with every beat,
// each outcome reported, and given up by a drain or a clean exit.
#include "daemon/node_membership.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace sluice;

namespace {

// Records every call; heartbeats block while `hold` is set, as on a store that does not answer.
class fake_registry final : public scheduler::node_registry {
public:
    core::result<void> register_node(const scheduler::node_registration& n) override {
        std::lock_guard lock(mutex_);
        calls_.push_back("register " + std::string(scheduler::to_string(n.state)) + " " +
                         n.config_hash);
        return {};
    }
    core::result<bool> heartbeat_node(std::string_view) override {
        std::unique_lock lock(mutex_);
        calls_.emplace_back("beat");
        ++in_flight_;
        max_in_flight_ = std::max(max_in_flight_, in_flight_);
        released_.wait(lock, [&] { return !hold_; });
        --in_flight_;
        if (forget_row_) {
            forget_row_ = false;
            return false;
        }
        return true;
    }
    core::result<bool> set_node_state(std::string_view, scheduler::node_state s) override {
        std::lock_guard lock(mutex_);
        calls_.push_back("state " + std::string(scheduler::to_string(s)));
        return true;
    }
    core::result<std::vector<scheduler::node_record>> list_nodes() override {
        return std::vector<scheduler::node_record>{};
    }
    core::result<std::map<scheduler::node_state, std::int64_t>> count_nodes() override {
        return std::map<scheduler::node_state, std::int64_t>{{scheduler::node_state::active, 2}};
    }
    // The scheduler lease, kept in memory: free, ours, or taken from `take_from`.
    core::result<scheduler::scheduler_claim> claim_scheduler(std::string_view id,
                                                             std::chrono::microseconds,
                                                             std::string_view take_from) override {
        std::lock_guard lock(mutex_);
        ++claims_;
        scheduler::scheduler_claim c;
        const bool expired = std::chrono::steady_clock::now() >= expires_;
        if (holder_.empty() || holder_ == id || expired ||
            (!take_from.empty() && holder_ == take_from)) {
            if (holder_ != id) {
                ++epoch_;
            }
            holder_ = std::string(id);
            expires_ = std::chrono::steady_clock::time_point::max();
            c.held = true;
            c.epoch = epoch_;
        } else {
            c.holder = holder_;
            c.holder_info_json = "{}";
            c.remaining = std::chrono::duration_cast<std::chrono::microseconds>(
                expires_ - std::chrono::steady_clock::now());
        }
        return c;
    }
    core::result<bool> release_scheduler(std::string_view id) override {
        std::lock_guard lock(mutex_);
        calls_.emplace_back("release");
        if (holder_ != id) {
            return false;
        }
        holder_.clear();
        return true;
    }
    // `holder` holds the lease for `remaining` more (a live node renews it: a long time).
    void set_holder(std::string holder, std::chrono::milliseconds remaining = 1h) {
        std::lock_guard lock(mutex_);
        holder_ = std::move(holder);
        expires_ = std::chrono::steady_clock::now() + remaining;
    }
    std::string holder() {
        std::lock_guard lock(mutex_);
        return holder_;
    }
    int claims() {
        std::lock_guard lock(mutex_);
        return claims_;
    }

    void hold(bool on) {
        std::lock_guard lock(mutex_);
        hold_ = on;
        released_.notify_all();
    }
    void forget_row() {
        std::lock_guard lock(mutex_);
        forget_row_ = true;
    }
    std::vector<std::string> calls() {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    long beats() {
        std::lock_guard lock(mutex_);
        return std::count(calls_.begin(), calls_.end(), "beat");
    }
    int in_flight() {
        std::lock_guard lock(mutex_);
        return in_flight_;
    }
    int max_in_flight() {
        std::lock_guard lock(mutex_);
        return max_in_flight_;
    }

private:
    std::mutex mutex_;
    std::condition_variable released_;
    std::vector<std::string> calls_;
    bool hold_ = false;
    bool forget_row_ = false;
    int in_flight_ = 0;
    int max_in_flight_ = 0;
    std::string holder_;
    std::chrono::steady_clock::time_point expires_ = std::chrono::steady_clock::time_point::max();
    std::int64_t epoch_ = 0;
    int claims_ = 0;
};

scheduler::node_registration row() {
    scheduler::node_registration r;
    r.id = "h:1:abc";
    r.name = "etl-1";
    r.config_hash = "c0ffee";
    r.lease_ttl = 1s;
    return r;
}

// Runs the loop for `d` even when it has nothing to do yet (completions arrive from the
// membership's store thread).
void run_loop(boost::asio::io_context& loop, std::chrono::milliseconds d) {
    auto busy = boost::asio::make_work_guard(loop);
    loop.restart();
    loop.run_for(d);
}

// Runs the loop until `done` holds or `limit` passed: on a loaded machine timers fire late, so
// the tests wait for what they expect rather than count ticks in a fixed window.
bool run_until(boost::asio::io_context& loop, const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) {
        run_loop(loop, std::chrono::milliseconds(10));
    }
    return done();
}

}  // namespace

TEST_CASE("node heartbeats come on their own timer, one in flight while the store is slow",
          "[daemon][cluster]") {
    fake_registry registry;
    boost::asio::io_context loop;
    daemon::node_membership node(registry, loop, row(), 20ms);
    REQUIRE(node.join().has_value());
    CHECK(registry.calls() == std::vector<std::string>{"register active c0ffee"});
    node.start();
    CHECK(run_until(loop, [&] { return registry.beats() >= 4; }));
    CHECK(registry.max_in_flight() == 1);

    // The store stops answering: one heartbeat waits, the ticks meanwhile are skipped.
    registry.hold(true);
    run_loop(loop, 60ms);
    const long held = registry.beats();
    run_loop(loop, 200ms);
    CHECK(registry.beats() == held);
    CHECK(registry.in_flight() == 1);
    CHECK(registry.max_in_flight() == 1);
    registry.hold(false);
    CHECK(run_until(loop, [&] { return registry.beats() >= held + 3; }));
    CHECK(registry.max_in_flight() == 1);

    // A row forgotten meanwhile is written again.
    registry.forget_row();
    CHECK(run_until(loop, [&] {
        const auto calls = registry.calls();
        return std::count(calls.begin(), calls.end(), "register active c0ffee") == 2;
    }));
}

TEST_CASE("a draining node says so, takes a reload's hash and ends stopped behind its heartbeat",
          "[daemon][cluster]") {
    fake_registry registry;
    boost::asio::io_context loop;
    daemon::node_membership node(registry, loop, row(), 20ms);
    REQUIRE(node.join().has_value());
    node.start();
    node.drain();
    node.reconfigure("beef");
    auto has = [&](const std::string& call) {
        const auto calls = registry.calls();
        return std::find(calls.begin(), calls.end(), call) != calls.end();
    };
    CHECK(run_until(loop, [&] { return has("state draining") && has("register draining beef"); }));
    // The drain gave the scheduler lease up, and a draining node claims it no more.
    CHECK(has("release"));
    CHECK(registry.holder().empty());
    const int claims = registry.claims();
    CHECK(run_until(loop, [&] { return registry.beats() >= 3; }));
    CHECK(registry.claims() == claims);

    // leave() while a heartbeat waits on the store: `stopped` comes after it, then done.
    registry.hold(true);
    REQUIRE(run_until(loop, [&] { return registry.in_flight() == 1; }));
    bool left = false;
    node.leave([&] { left = true; });
    run_loop(loop, 100ms);
    CHECK_FALSE(left);
    registry.hold(false);
    CHECK(run_until(loop, [&] { return left; }));
    const auto calls = registry.calls();
    REQUIRE(calls.size() >= 2);
    CHECK(calls[calls.size() - 2] == "state stopped");
    CHECK(calls.back() == "release");
    // No heartbeat after leaving.
    const long beats = registry.beats();
    run_loop(loop, 100ms);
    CHECK(registry.beats() == beats);
}

TEST_CASE("the scheduler lease is claimed with every heartbeat and each outcome reported",
          "[daemon][cluster]") {
    fake_registry registry;
    registry.set_holder("h:2:other");
    boost::asio::io_context loop;
    daemon::node_membership node(registry, loop, row(), 20ms);
    REQUIRE(node.join().has_value());
    CHECK_FALSE(node.scheduler_lease().has_value());  // another live node holds it
    std::vector<std::optional<scheduler::scheduler_grant>> reported;
    node.on_scheduler_lease(
        [&](std::optional<scheduler::scheduler_grant> g) { reported.push_back(g); });
    node.start();
    CHECK(run_until(loop, [&] { return reported.size() >= 2; }));
    CHECK(std::none_of(reported.begin(), reported.end(), [](const auto& g) { return g; }));

    // The holder gave it up: the next beat takes it, with a deadline one lease_ttl away at most.
    registry.set_holder("");
    const auto before = std::chrono::steady_clock::now();
    CHECK(run_until(loop, [&] { return !reported.empty() && reported.back().has_value(); }));
    REQUIRE(reported.back().has_value());
    CHECK(reported.back()->epoch == 1);
    CHECK(reported.back()->until <= std::chrono::steady_clock::now() + 1s);
    CHECK(reported.back()->until > before);
    // Renewals keep the epoch.
    const std::size_t n = reported.size();
    CHECK(run_until(loop, [&] { return reported.size() >= n + 2; }));
    CHECK(reported.back()->epoch == 1);
    CHECK(registry.holder() == "h:1:abc");
}

TEST_CASE("a node that holds its store alone takes the scheduler lease from whoever left it",
          "[daemon][cluster]") {
    fake_registry registry;
    registry.set_holder("h:9:killed");  // a daemon killed with -9 before this one started
    boost::asio::io_context loop;
    scheduler::node_registration sole = row();
    sole.sole = true;  // a SQLite store's engine lock proves the holder gone
    daemon::node_membership node(registry, loop, sole, 20ms);
    REQUIRE(node.join().has_value());
    REQUIRE(node.scheduler_lease().has_value());
    CHECK(node.scheduler_lease()->epoch == 1);
    CHECK(registry.holder() == "h:1:abc");
}

TEST_CASE("a lost holder's lease is claimed as it runs out, not at the next heartbeat",
          "[daemon][cluster]") {
    fake_registry registry;
    registry.set_holder("h:2:killed", 100ms);  // its last renewal, then silence
    boost::asio::io_context loop;
    daemon::node_membership node(registry, loop, row(), 5s);
    REQUIRE(node.join().has_value());
    CHECK_FALSE(node.scheduler_lease().has_value());
    std::optional<scheduler::scheduler_grant> reported;
    node.on_scheduler_lease([&](std::optional<scheduler::scheduler_grant> g) { reported = g; });
    const auto began = std::chrono::steady_clock::now();
    node.start();
    CHECK(run_until(
        loop, [&] { return reported.has_value(); }, 4s));
    // Well before the 5 s heartbeat: just after the 100 ms the holder had left.
    CHECK(std::chrono::steady_clock::now() - began < 2500ms);
    CHECK(registry.holder() == "h:1:abc");
}
