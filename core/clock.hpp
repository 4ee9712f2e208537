#pragma once

#include <atomic>
#include <chrono>

namespace sluice::core {

using time_point = std::chrono::system_clock::time_point;

// Time is injected: production code asks a clock, tests advance a manual one.
class clock {
public:
    virtual ~clock() = default;
    // The current wall-clock time (UTC).
    virtual time_point now() const = 0;
};

// The real system clock.
class system_clock final : public clock {
public:
    time_point now() const override { return std::chrono::system_clock::now(); }
};

// A clock that only moves when told to; safe to read from several threads.
class manual_clock final : public clock {
public:
    explicit manual_clock(time_point start = time_point{})
        : now_(start.time_since_epoch().count()) {}

    time_point now() const override { return time_point{time_point::duration{now_.load()}}; }
    void set(time_point t) { now_.store(t.time_since_epoch().count()); }
    void advance(time_point::duration d) { now_.fetch_add(d.count()); }

private:
    std::atomic<time_point::rep> now_;
};

}  // namespace sluice::core
