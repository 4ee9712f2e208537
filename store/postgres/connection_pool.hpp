#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <pqxx/connection>

#include "core/error.hpp"

namespace sluice::store::postgres {

// One server connection with the names of the statements prepared on it (keyed by SQL text).
struct pooled_connection {
    // The concrete type: libpqxx 6.4's connection_base has no virtual destructor, so owning
    // through it was a mismatched delete (found by ASan).
    std::unique_ptr<pqxx::connection> conn;
    std::unordered_map<std::string, std::string> prepared;
};

// A bounded pool of libpq connections, opened lazily. Thread-safe.
class connection_pool {
public:
    // `conninfo` is what libpq accepts (a postgresql:// URL); `redacted` names it in messages.
    connection_pool(std::string conninfo, std::string redacted, std::size_t max_size);
    ~connection_pool();

    // A connection taken from the pool; goes back on destruction unless discarded.
    class lease {
    public:
        lease(connection_pool* pool, std::unique_ptr<pooled_connection> c)
            : pool_(pool), conn_(std::move(c)) {}
        lease(lease&&) noexcept = default;
        lease& operator=(lease&&) = delete;
        ~lease();

        pooled_connection& operator*() const { return *conn_; }
        pooled_connection* operator->() const { return conn_.get(); }
        // The connection is broken: close it, and drop the idle ones (they likely share its fate:
        // a server restart or a network cut), so the next caller gets a fresh connection.
        void discard();

    private:
        connection_pool* pool_ = nullptr;
        std::unique_ptr<pooled_connection> conn_;
    };

    // An idle connection, a new one while fewer than max_size are open, or waits up to
    // acquire_timeout for one to come back (transient error after that, or when connecting fails).
    core::result<lease> acquire();

    const std::string& redacted() const { return redacted_; }

private:
    void give_back(std::unique_ptr<pooled_connection> c);
    void discard(std::unique_ptr<pooled_connection> c);

    // How long a caller waits for a free connection before giving up with a transient error.
    static constexpr std::chrono::seconds acquire_timeout{30};

    const std::string conninfo_;
    const std::string redacted_;
    const std::size_t max_size_;
    std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<std::unique_ptr<pooled_connection>> idle_;  // guarded by mutex_
    std::size_t open_ = 0;                                  // guarded by mutex_
};

}  // namespace sluice::store::postgres
