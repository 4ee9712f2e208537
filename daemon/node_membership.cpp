#include "daemon/node_membership.hpp"

#include <fstream>
#include <iterator>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/duration.hpp"
#include "core/logging.hpp"
#include "daemon/process_identity.hpp"
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
      timer_(loop),
      claim_timer_(loop) {}

node_membership::~node_membership() {
    timer_.cancel();
    claim_timer_.cancel();
    // The store call in flight finishes (bounded by store.timeout); what it posts back to the
    // loop never runs once the loop has stopped.
    store_thread_.join();
}

core::result<void> node_membership::join() {
    auto joined = registry_.register_node(self_);
    if (!joined) {
        return joined;
    }
    log_->info("node {} ({}) joined the cluster: lease_ttl {}, heartbeat {}", self_.name, self_.id,
               core::format_duration(std::chrono::duration_cast<core::duration>(self_.lease_ttl)),
               core::format_duration(heartbeat_));
    auto claimed = claim(self_, &join_remaining_);
    if (!claimed) {
        return claimed.error();
    }
    lease_ = *claimed;
    last_beat_ = std::chrono::steady_clock::now();
    if (auto counted = registry_.count_nodes()) {
        nodes_ = std::move(*counted);
    }
    return {};
}

scheduler::node_status node_membership::status() const {
    scheduler::node_status s;
    s.name = self_.name;
    s.state = self_.state;
    s.scheduler = lease_ && std::chrono::steady_clock::now() < lease_->until;
    s.since_heartbeat = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - last_beat_);
    s.lease_ttl = self_.lease_ttl;
    s.nodes = nodes_;
    return s;
}

core::result<std::optional<scheduler::scheduler_grant>> node_membership::claim(
    const scheduler::node_registration& row, std::chrono::microseconds* holder_remaining) {
    // The lease is ours for lease_ttl from the store's now at the claim, which is no earlier
    // than this instant: counted from here, it ends no later than the store says.
    const auto sent = std::chrono::steady_clock::now();
    auto c = registry_.claim_scheduler(row.id, row.lease_ttl);
    if (!c) {
        return c.error();
    }
    // A holder that provably exited (on this machine: a daemon killed and started again, or
    // anywhere on a SQLite store, whose engine lock this process holds) is not waited out.
    if (!c->held && !c->holder.empty() && (row.sole || lease_owner_gone(c->holder_info_json))) {
        c = registry_.claim_scheduler(row.id, row.lease_ttl, c->holder);
        if (!c) {
            return c.error();
        }
    }
    if (!c->held) {
        *holder_remaining = c->remaining;
        return std::optional<scheduler::scheduler_grant>();
    }
    return std::optional(scheduler::scheduler_grant{c->epoch, sent + row.lease_ttl});
}

void node_membership::start() {
    arm();
    claim_at_expiry(join_remaining_);
}

void node_membership::claim_at_expiry(std::chrono::microseconds remaining) {
    // The holder's lease runs out before the next heartbeat: claim just after it does, so a
    // lost scheduler is replaced within lease_ttl of its last renewal, not up to a heartbeat
    // later (docs/cluster.md#the-scheduler).
    if (remaining <= std::chrono::microseconds::zero() || remaining >= heartbeat_ || left_) {
        return;
    }
    claim_timer_.expires_after(remaining + std::chrono::milliseconds(20));
    claim_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !left_) {
            beat();
        }
    });
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
    beat();
}

void node_membership::beat() {
    if (beating_) {
        return;  // the previous heartbeat still waits on the store: one in flight at most
    }
    beating_ = true;
    // A draining node claims nothing: it gave the lease up and takes no new work.
    const bool claiming = self_.state == scheduler::node_state::active;
    struct beat_outcome {
        core::result<std::optional<scheduler::scheduler_grant>> lease =
            core::error::transient("no claim");
        std::optional<std::map<scheduler::node_state, std::int64_t>> nodes;
        std::chrono::steady_clock::duration took{};
        std::chrono::microseconds holder_remaining{0};  // another node holds the lease
    };
    auto out = std::make_shared<beat_outcome>();
    on_store(
        [this, row = self_, claiming, out]() -> core::result<void> {
            const auto began = std::chrono::steady_clock::now();
            auto lease = &out->lease;
            auto beat = registry_.heartbeat_node(row.id);
            if (!beat) {
                return beat.error();
            }
            if (!*beat) {
                // The row was forgotten (a freeze of a week): write it again.
                if (auto again = registry_.register_node(row); !again) {
                    return again;
                }
            }
            if (claiming) {
                *lease = claim(row, &out->holder_remaining);
                if (!*lease) {
                    return lease->error();
                }
            }
            out->took = std::chrono::steady_clock::now() - began;
            if (auto counted = registry_.count_nodes()) {
                out->nodes = std::move(*counted);
            }
            return {};
        },
        [this, out](core::result<void> beat) {
            beating_ = false;
            report(beat);
            if (beat) {
                last_beat_ = std::chrono::steady_clock::now();
                if (on_beat_seconds_) {
                    on_beat_seconds_(std::chrono::duration<double>(out->took).count());
                }
            }
            if (out->nodes) {
                nodes_ = std::move(*out->nodes);
            }
            // A failed claim proves nothing either way: the grant held runs out on its own.
            if (out->lease && !left_ && self_.state == scheduler::node_state::active) {
                lease_ = *out->lease;
                if (on_lease_) {
                    on_lease_(lease_);
                }
                if (!lease_) {
                    claim_at_expiry(out->holder_remaining);
                }
            }
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
    lease_.reset();
    on_store(
        [this, id = self_.id]() -> core::result<void> {
            auto set = registry_.set_node_state(id, scheduler::node_state::draining);
            if (!set) {
                return set.error();
            }
            // Another node takes the schedule over at its next heartbeat, not after lease_ttl.
            auto released = registry_.release_scheduler(id);
            if (!released) {
                return released.error();
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
    claim_timer_.cancel();
    lease_.reset();
    // Behind any heartbeat in flight on the one store thread, so the row ends stopped.
    on_store(
        [this, id = self_.id]() -> core::result<void> {
            auto set = registry_.set_node_state(id, scheduler::node_state::stopped);
            if (!set) {
                return set.error();
            }
            auto released = registry_.release_scheduler(id);
            if (!released) {
                return released.error();
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
