#pragma once

// Metric vocabulary shared by the components that count things (store/, scheduler observers)
// and web/, which renders them in the Prometheus text format. Lock-free on the hot path except
// the first use of a new label set.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::core {

// A monotonically increasing count.
class counter {
public:
    void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down.
class gauge {
public:
    void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
    void add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
    std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

// A cumulative histogram with fixed upper bounds (seconds, for every histogram we export).
class histogram {
public:
    explicit histogram(std::vector<double> bounds)
        : bounds_(std::move(bounds)), buckets_(bounds_.size()) {}

    void observe(double v) {
        for (std::size_t i = 0; i < bounds_.size(); ++i) {
            if (v <= bounds_[i]) {
                buckets_[i].fetch_add(1, std::memory_order_relaxed);
                break;
            }
        }
        count_.fetch_add(1, std::memory_order_relaxed);
        // Sum in micro-units: atomic<double>::fetch_add is C++20 but not lock-free everywhere.
        sum_micros_.fetch_add(static_cast<std::int64_t>(v * 1e6), std::memory_order_relaxed);
    }

    struct snapshot {
        std::vector<double> bounds;
        std::vector<std::uint64_t> cumulative;  // one per bound
        std::uint64_t count = 0;
        double sum = 0;
    };
    snapshot read() const {
        snapshot s;
        s.bounds = bounds_;
        std::uint64_t running = 0;
        for (const auto& b : buckets_) {
            running += b.load(std::memory_order_relaxed);
            s.cumulative.push_back(running);
        }
        s.count = count_.load(std::memory_order_relaxed);
        // Observations above the last bound are only in count (the +Inf bucket).
        s.count = std::max(s.count, running);
        s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
        return s;
    }

    // Buckets for latencies from a millisecond to an hour.
    static std::vector<double> seconds_buckets() {
        return {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};
    }

private:
    std::vector<double> bounds_;
    std::vector<std::atomic<std::uint64_t>> buckets_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::int64_t> sum_micros_{0};
};

// Label values in the order of the family's label names.
using label_values = std::vector<std::string>;

// One metric per label set, created on first use; entries are never removed (bounded by the
// configured jobs x tasks x states).
template <class Metric>
class family {
public:
    template <class... Args>
    explicit family(Args... args)
        : make_([args...] { return std::make_unique<Metric>(args...); }) {}

    Metric& at(const label_values& labels) {
        std::lock_guard lock(mutex_);
        auto& slot = metrics_[labels];
        if (!slot) {
            slot = make_();
        }
        return *slot;
    }
    // Calls f(labels, metric) for each label set, in label order.
    template <class F>
    void for_each(F f) const {
        std::lock_guard lock(mutex_);
        for (const auto& [labels, metric] : metrics_) {
            f(labels, *metric);
        }
    }

private:
    std::function<std::unique_ptr<Metric>()> make_;
    mutable std::mutex mutex_;
    std::map<label_values, std::unique_ptr<Metric>> metrics_;
};

}  // namespace sluice::core
