#include "daemon/node_membership.hpp"

#include <fstream>
#include <iterator>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/duration.hpp"
#include "core/logging.hpp"
#include "web/auth.hpp"

namespace sluice::daemon {

std::string config_hash(const config::sluice_config& config) {
    std::string content;
    for (const auto& file : config.files) {
        std::ifstream in(file, std::ios::binary);
        content.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        // A separator, so that moving text between the base file and its overlay changes it.
        content.push_back('\0');
    }
    return web::sha256_hex(content);
}

std::string node_name_of(const config::cluster_spec& cluster, const std::string& host, long pid) {
    return cluster.node_name.empty() ? host + ":" + std::to_string(pid) : cluster.node_name;
}

node_membership::node_membership(scheduler::node_registry& registry, boost::asio::io_context& loop,
                                 scheduler::node_registration self,
                                 std::chrono::milliseconds heartbeat)
    : registry_(registry),
      loop_(loop),
      self_(std::move(self)),
      heartbeat_(heartbeat),
      log_(core::component_logger("cluster")),
      timer_(loop) {}

node_membership::~node_membership() {
    timer_.cancel();
    // The store call in flight finishes (bounded by store.timeout); what it posts back to the
    // loop never runs once the loop has stopped.
    store_thread_.join();
}

core::result<void> node_membership::join() {
    auto joined = registry_.register_node(self_);
    if (joined) {
        log_->info(
            "node {} ({}) joined the cluster: lease_ttl {}, heartbeat {}", self_.name, self_.id,
            core::format_duration(std::chrono::duration_cast<core::duration>(self_.lease_ttl)),
            core::format_duration(heartbeat_));
    }
    return joined;
}

void node_membership::start() {
    arm();
}

void node_membership::arm() {
    timer_.expires_after(heartbeat_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !left_) {
            on_tick();
        }
    });
}

void node_membership::on_tick() {
    arm();
    if (beating_) {
        return;  // the previous heartbeat still waits on the store: one in flight at most
    }
    beating_ = true;
    on_store(
        [this, row = self_]() -> core::result<void> {
            auto beat = registry_.heartbeat_node(row.id);
            if (!beat) {
                return beat.error();
            }
            if (!*beat) {
                // The row was forgotten (a freeze of a week): write it again.
                return registry_.register_node(row);
            }
            return {};
        },
        [this](core::result<void> beat) {
            beating_ = false;
            report(beat);
        });
}

void node_membership::report(const core::result<void>& beat) {
    if (!beat && !failing_) {
        failing_ = true;
        log_->warn(
            "node {}: heartbeat failed: {}; other nodes see this node as lost once its last "
            "heartbeat is {} old",
            self_.name, beat.error().message,
            core::format_duration(std::chrono::duration_cast<core::duration>(self_.lease_ttl)));
    } else if (beat && failing_) {
        failing_ = false;
        log_->info("node {}: heartbeats reach the store again", self_.name);
    }
}

void node_membership::drain() {
    if (left_ || self_.state == scheduler::node_state::draining) {
        return;
    }
    self_.state = scheduler::node_state::draining;
    on_store(
        [this, id = self_.id]() -> core::result<void> {
            auto set = registry_.set_node_state(id, scheduler::node_state::draining);
            if (!set) {
                return set.error();
            }
            return {};
        },
        [this](core::result<void> set) {
            if (!set) {
                log_->warn("node {}: cannot mark the node draining: {}", self_.name,
                           set.error().message);
            }
        });
}

void node_membership::reconfigure(std::string hash) {
    if (left_ || hash == self_.config_hash) {
        return;
    }
    self_.config_hash = std::move(hash);
    on_store([this, row = self_] { return registry_.register_node(row); },
             [this](core::result<void> r) {
                 if (!r) {
                     log_->warn("node {}: cannot record the reloaded configuration's hash: {}",
                                self_.name, r.error().message);
                 }
             });
}

void node_membership::leave(std::function<void()> done) {
    if (left_) {
        boost::asio::post(loop_, std::move(done));
        return;
    }
    left_ = true;
    timer_.cancel();
    // Behind any heartbeat in flight on the one store thread, so the row ends stopped.
    on_store(
        [this, id = self_.id]() -> core::result<void> {
            auto set = registry_.set_node_state(id, scheduler::node_state::stopped);
            if (!set) {
                return set.error();
            }
            return {};
        },
        [this, done = std::move(done)](core::result<void> set) {
            if (set) {
                log_->info("node {} left the cluster", self_.name);
            } else {
                log_->warn(
                    "node {}: cannot mark the node stopped: {}; it reads as lost until "
                    "forgotten a week after its last heartbeat",
                    self_.name, set.error().message);
            }
            done();
        });
}

void node_membership::on_store(std::function<core::result<void>()> work,
                               std::function<void(core::result<void>)> then) {
    boost::asio::post(
        store_thread_, [this, work = std::move(work), then = std::move(then)]() mutable {
            auto r = work();
            boost::asio::post(loop_, [r = std::move(r), then = std::move(then)]() mutable {
                then(std::move(r));
            });
        });
}

}  // namespace sluice::daemon
