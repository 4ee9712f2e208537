#include "store/postgres/socket_watchdog.hpp"

#include <algorithm>
#include <sys/socket.h>
#include <vector>

#include "core/duration.hpp"

namespace sluice::store::postgres {

socket_watchdog::socket_watchdog(std::chrono::milliseconds limit) : limit_(limit) {}

socket_watchdog::~socket_watchdog() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

socket_watchdog::guard socket_watchdog::watch(int fd) {
    if (fd < 0) {
        return guard(nullptr, 0);
    }
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
        watched_.emplace(id, entry{fd, std::chrono::steady_clock::now() + limit_});
        if (!thread_.joinable()) {
            // Lazily: SQLite stores and short-lived commands never start it.
            thread_ = std::thread([this] { loop(); });
        }
    }
    changed_.notify_all();
    return guard(this, id);
}

std::string socket_watchdog::describe_limit() const {
    return "no answer from the store within " + core::format_duration(limit_);
}

bool socket_watchdog::guard::release() {
    if (owner_ != nullptr) {
        fired_ = owner_->finish(id_);
        owner_ = nullptr;
    }
    return fired_;
}

bool socket_watchdog::finish(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    const auto it = watched_.find(id);
    if (it == watched_.end()) {
        return false;
    }
    const bool fired = it->second.fired;
    watched_.erase(it);
    return fired;
}

void socket_watchdog::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto now = std::chrono::steady_clock::now();
        auto next = std::chrono::steady_clock::time_point::max();
        for (auto& [id, e] : watched_) {
            if (e.fired) {
                continue;
            }
            if (e.deadline <= now) {
                // Under the lock: the guard cannot release (and the connection close) meanwhile,
                // so the descriptor is still the connection's.
                ::shutdown(e.fd, SHUT_RDWR);
                e.fired = true;
            } else if (e.deadline < next) {
                next = e.deadline;
            }
        }
        if (next == std::chrono::steady_clock::time_point::max()) {
            changed_.wait(lock);
        } else {
            changed_.wait_until(lock, next);
        }
    }
}

namespace {

std::string with_default(const std::string& conninfo, const std::string& key,
                         const std::string& value) {
    if (conninfo.find(key + "=") != std::string::npos) {
        return conninfo;  // the operator's own setting wins
    }
    if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) {
        const auto hash = conninfo.find('#');
        const std::string base = conninfo.substr(0, hash);
        return base + (base.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
    }
    return conninfo + (conninfo.empty() ? "" : " ") + key + "=" + value;
}

}  // namespace

std::string bounded_conninfo(const std::string& conninfo, std::chrono::milliseconds limit) {
    std::string out = conninfo;
    const std::vector<std::pair<std::string, std::string>> defaults{
        // libpq counts whole seconds; never longer than the operations' own bound.
        {"connect_timeout",
         std::to_string(std::clamp<long long>(
             std::chrono::duration_cast<std::chrono::seconds>(limit).count(), 1, 10))},
        {"keepalives", "1"},
        {"keepalives_idle", "10"},
        {"keepalives_interval", "5"},
        {"keepalives_count", "3"},
        {"tcp_user_timeout", std::to_string(limit.count())},
    };
    for (const auto& [key, value] : defaults) {
        out = with_default(out, key, value);
    }
    return out;
}

}  // namespace sluice::store::postgres
