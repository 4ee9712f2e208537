#pragma once

// An attempt's output on its way to the store: log lines in chunks, metrics and a copy's
// progress (engine_attempts.cpp owns one per running attempt).

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.hpp"
#include "scheduler/attempt_bridge.hpp"
#include "scheduler/run_store.hpp"

namespace sluice::scheduler {

// Collects an attempt's output and metrics on the worker thread and writes log lines to the
// store in chunks (log_flush_lines, log_flush_interval).
class attempt_sink {
public:
    attempt_sink(run_store& store, core::task_instance_id task, int try_number,
                 std::size_t flush_lines, std::chrono::milliseconds flush_interval)
        : store_(store),
          task_(task),
          try_number_(try_number),
          flush_lines_(flush_lines),
          flush_interval_(flush_interval),
          last_flush_(std::chrono::steady_clock::now()) {}

    void add(attempt_output out) {
        std::lock_guard lock(mutex_);
        static constexpr const char* streams[] = {"stdout", "stderr", "sluice"};
        lines_.push_back(
            log_line{out.at, streams[std::clamp(out.stream, 0, 2)], std::move(out.text)});
        if (lines_.size() >= flush_lines_ ||
            std::chrono::steady_clock::now() - last_flush_ >= flush_interval_) {
            flush_locked();
        }
    }
    void metric(std::string_view name, double value) {
        std::lock_guard lock(mutex_);
        metrics_[std::string(name)] = value;
        metrics_dirty_ = true;
    }
    void flush() {
        std::lock_guard lock(mutex_);
        flush_locked();
    }
    // Flushes lines that have waited log_flush_interval (a quiet task's last lines would
    // otherwise wait for its next line, and `logs?follow=1` would not see them).
    // Also writes the metrics so far to the task row, at most once per running_metrics_interval,
    // so a run's detail shows a long copy's progress while it runs.
    void flush_if_stale() {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (!lines_.empty() && now - last_flush_ >= flush_interval_) {
            flush_locked();
        }
        if (metrics_dirty_ && now - last_metrics_write_ >= running_metrics_interval) {
            metrics_dirty_ = false;
            last_metrics_write_ = now;
            auto r = store_.put_running_metrics(task_, try_number_, metrics_json_locked());
            if (!r) {
                // Only the live view lags; the attempt's end writes its final metrics.
                core::component_logger("scheduler")
                    ->debug("task_instance={}: progress not stored: {}", task_.value,
                            r.error().message);
            }
        }
    }
    std::chrono::milliseconds flush_interval() const { return flush_interval_; }
    // The last progress report of a copy (a JSON object), merged into the metrics.
    void progress(const std::string& progress_json) {
        std::lock_guard lock(mutex_);
        progress_ = progress_json;
        metrics_dirty_ = true;
    }
    std::string metrics_json() {
        std::lock_guard lock(mutex_);
        return metrics_json_locked();
    }
    bool has_metrics() {
        std::lock_guard lock(mutex_);
        return !metrics_.empty() || !progress_.empty();
    }

private:
    static constexpr auto running_metrics_interval = std::chrono::seconds(1);

    std::string metrics_json_locked() const {
        nlohmann::json j = nlohmann::json::object();
        if (!progress_.empty()) {
            nlohmann::json p = nlohmann::json::parse(progress_, nullptr, false);
            if (p.is_object()) {
                j = std::move(p);
            }
        }
        for (const auto& [k, v] : metrics_) {
            j[k] = v;
        }
        return j.dump();
    }

    void flush_locked() {
        last_flush_ = std::chrono::steady_clock::now();
        if (lines_.empty()) {
            return;
        }
        auto r = store_.append_task_log(task_, try_number_, lines_);
        if (!r) {
            // Losing log lines must not fail the task; say so where the operator looks.
            core::component_logger("scheduler")
                ->warn("task_instance={}: {} log line(s) lost: {}", task_.value, lines_.size(),
                       r.error().message);
        }
        lines_.clear();
    }

    run_store& store_;
    core::task_instance_id task_;
    int try_number_;
    std::size_t flush_lines_;
    std::chrono::milliseconds flush_interval_;
    std::mutex mutex_;
    std::vector<log_line> lines_;
    std::map<std::string, double> metrics_;
    std::string progress_;
    bool metrics_dirty_ = false;
    std::chrono::steady_clock::time_point last_flush_;
    std::chrono::steady_clock::time_point last_metrics_write_{};
};

// While an attempt runs, asks its sink every log_flush_interval to write lines that have
// waited that long. The write runs on the store thread, never on the loop. Stops once the
// attempt released its sink.
class stale_log_flusher : public std::enable_shared_from_this<stale_log_flusher> {
public:
    stale_log_flusher(boost::asio::io_context& loop, boost::asio::thread_pool& store_pool,
                      const std::shared_ptr<attempt_sink>& sink)
        : timer_(loop), store_pool_(store_pool), sink_(sink), interval_(sink->flush_interval()) {}

    void arm() {
        timer_.expires_after(interval_);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            auto sink = self->sink_.lock();
            if (ec || !sink) {
                return;
            }
            boost::asio::post(self->store_pool_, [sink] { sink->flush_if_stale(); });
            self->arm();
        });
    }

private:
    boost::asio::steady_timer timer_;
    boost::asio::thread_pool& store_pool_;
    std::weak_ptr<attempt_sink> sink_;
    std::chrono::milliseconds interval_;
};

}  // namespace sluice::scheduler
