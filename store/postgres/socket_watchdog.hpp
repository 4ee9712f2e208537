#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

// Bounds every PostgreSQL store operation in time (docs/operations.md#store-outages).
//
// libpq waits for the server without a timeout of its own, and a server that is frozen (SIGSTOP,
// a hung host whose kernel still answers) keeps acknowledging packets, so TCP keepalives never
// fire. The watchdog shuts down the socket of an operation that outlives its deadline: libpq's
// wait then fails at once, as on a connection the server closed, and the operation reports a
// transient error (for a commit: outcome unknown). The caller then discards the connection.
namespace sluice::store::postgres {

class socket_watchdog {
public:
    explicit socket_watchdog(std::chrono::milliseconds limit);
    ~socket_watchdog();
    socket_watchdog(const socket_watchdog&) = delete;
    socket_watchdog& operator=(const socket_watchdog&) = delete;

    // Watches `fd` until release() or destruction; no effect for fd < 0. Release it before the
    // connection is closed: a closed descriptor's number may be reused.
    class guard {
    public:
        guard(socket_watchdog* owner, std::uint64_t id) : owner_(owner), id_(id) {}
        guard(guard&& other) noexcept : owner_(other.owner_), id_(other.id_) {
            other.owner_ = nullptr;
        }
        guard& operator=(guard&&) = delete;
        ~guard() { release(); }
        // Stops watching; true when the deadline had passed and the socket was shut down.
        bool release();

    private:
        socket_watchdog* owner_;
        std::uint64_t id_;
        bool fired_ = false;
    };

    guard watch(int fd);
    std::chrono::milliseconds limit() const { return limit_; }
    // "no answer from the store within 30s" for messages.
    std::string describe_limit() const;

private:
    struct entry {
        int fd;
        std::chrono::steady_clock::time_point deadline;
        bool fired = false;
    };
    void loop();
    bool finish(std::uint64_t id);

    const std::chrono::milliseconds limit_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::uint64_t, entry> watched_;  // guarded by mutex_
    std::uint64_t next_id_ = 1;               // guarded by mutex_
    bool stopping_ = false;                   // guarded by mutex_
    std::thread thread_;                      // started on the first watch()
};

// `conninfo` (a postgresql:// URL or key=value text) with what bounds a connection added where
// the operator did not set it: connect_timeout (10 s, or the limit when shorter), TCP keepalives
// (idle 10 s, then 3 probes 5 s apart) and tcp_user_timeout (the watchdog's limit), so a peer that
// vanished from the network is noticed even between operations.
std::string bounded_conninfo(const std::string& conninfo, std::chrono::milliseconds limit);

}  // namespace sluice::store::postgres
