#include "store/postgres/connection_pool.hpp"

#include <pqxx/connection>
#include <pqxx/except>

namespace sluice::store::postgres {

connection_pool::connection_pool(std::string conninfo, std::string redacted, std::size_t max_size)
    : conninfo_(std::move(conninfo)), redacted_(std::move(redacted)), max_size_(max_size) {}

connection_pool::~connection_pool() = default;

connection_pool::lease::~lease() {
    if (conn_ && pool_ != nullptr) {
        pool_->give_back(std::move(conn_));
    }
}

void connection_pool::lease::discard() {
    if (conn_ && pool_ != nullptr) {
        pool_->discard(std::move(conn_));
    }
}

core::result<connection_pool::lease> connection_pool::acquire() {
    std::unique_lock lock(mutex_);
    bool free = returned_.wait_for(lock, acquire_timeout,
                                   [&] { return !idle_.empty() || open_ < max_size_; });
    if (!free) {
        return core::error::transient("postgres store " + redacted_ + ": no free connection in " +
                                      std::to_string(acquire_timeout.count()) + "s (pool of " +
                                      std::to_string(max_size_) + ")");
    }
    if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return lease(this, std::move(c));
    }
    ++open_;
    lock.unlock();
    try {
        auto c = std::make_unique<pooled_connection>();
        c->conn = std::make_unique<pqxx::connection>(conninfo_);
        return lease(this, std::move(c));
    } catch (const std::exception& e) {
        // libpq's connect errors name host and port, never the password.
        {
            std::lock_guard relock(mutex_);
            --open_;
        }
        returned_.notify_one();
        return core::error::transient("postgres store " + redacted_ +
                                      ": cannot connect: " + e.what());
    }
}

void connection_pool::give_back(std::unique_ptr<pooled_connection> c) {
    {
        std::lock_guard lock(mutex_);
        if (c->conn->is_open()) {
            idle_.push_back(std::move(c));
        } else {
            --open_;
        }
    }
    returned_.notify_one();
}

void connection_pool::discard(std::unique_ptr<pooled_connection> c) {
    std::vector<std::unique_ptr<pooled_connection>> dropped;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(idle_);
        open_ -= dropped.size() + 1;
    }
    returned_.notify_all();
    // Closing happens outside the lock: it may wait on the network.
    c.reset();
    dropped.clear();
}

}  // namespace sluice::store::postgres
