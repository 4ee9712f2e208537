// The daemon's node membership (docs/cluster.md) over a fake registry: heartbeats on their own
// timer, at most one in flight while the store is slow (ticks are skipped, not queued), a
// forgotten row written again, draining, a reload's hash, and `stopped` written behind the
// heartbeat in flight before leave() completes.
#include "daemon/node_membership.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
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
    CHECK(calls.back() == "state stopped");
    // No heartbeat after leaving.
    const long beats = registry.beats();
    run_loop(loop, 100ms);
    CHECK(registry.beats() == beats);
}
