#pragma once

// The one process that runs the engine on a SQLite store. SQLite has no leases another process
// could watch over the network and no way to tell a live writer from a dead one, so the process
// that drives runs (`serve`, `run`) holds an exclusive lock on a file beside the database for as
// long as it lives; a second one is refused with a message that names the holder. Read-only
// commands (`runs list`, `runs show`) take no lock. PostgreSQL stores are shared through leases
// instead (docs/cli.md, "One store, several processes").

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace sluice::store {

class engine_lock {
public:
    // For a sqlite:// URL, locks "<database>.lock" (created 0600) and writes `holder` into it
    // (one line saying who holds it, shown to whoever is refused). A lock still held after
    // `patience` (a process that is exiting releases it within moments) is a permanent error
    // naming the holder. Other URLs need no lock: the result holds nullptr.
    static core::result<std::unique_ptr<engine_lock>> acquire(
        std::string_view store_url, std::string_view holder,
        std::chrono::milliseconds patience = std::chrono::seconds(2));

    ~engine_lock();
    engine_lock(const engine_lock&) = delete;
    engine_lock& operator=(const engine_lock&) = delete;

    const std::string& path() const { return path_; }

private:
    engine_lock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    int fd_ = -1;
    std::string path_;
};

}  // namespace sluice::store
