// Probes and metrics. /livez and /healthz answer from the loop itself (that the loop runs the
// handler is the liveness signal) and never touch the store; /readyz asks the store with a 1 s
// bound (one check at a time, shared by the probes that arrive meanwhile) and the engine whether
// it runs.

#include <boost/asio/steady_timer.hpp>

#include "web/api_impl.hpp"

namespace sluice::web {

namespace {

// How long /readyz waits for the store before calling it unreachable.
constexpr auto readiness_store_budget = std::chrono::seconds(1);

struct readiness {
    bool answered = false;
    std::optional<scheduler::engine_stats> stats;
    std::optional<std::string> store_problem;    // set once the store check finished or timed out
    std::optional<scheduler::node_status> node;  // a cluster node's view of itself
    bool store_done = false;
    std::unique_ptr<boost::asio::steady_timer> timer;
};

void finish_readiness(const std::shared_ptr<readiness>& r, const responder& done) {
    if (r->answered || !r->stats || !r->store_done) {
        return;
    }
    r->answered = true;
    if (r->timer) {
        r->timer->cancel();
    }
    nlohmann::json reasons = nlohmann::json::array();
    if (r->store_problem) {
        reasons.push_back(*r->store_problem);
    }
    if (!r->stats->started) {
        reasons.push_back("the scheduler has not started");
    } else if (r->stats->shutting_down) {
        reasons.push_back("the scheduler is shutting down");
    }
    nlohmann::json checks = {
        {"config", "loaded"},
        {"store", r->store_problem ? "unreachable" : "ok"},
        {"scheduler", r->stats->started && !r->stats->shutting_down ? "running" : "not_running"}};
    nlohmann::json body = nlohmann::json::object();
    if (r->node) {
        // A node whose heartbeats stopped reaching the store past its lease reads as lost to the
        // others (docs/cluster.md#states): it should not be sent work either.
        const scheduler::node_status& n = *r->node;
        const bool lost = n.since_heartbeat > n.lease_ttl;
        checks["cluster"] = lost ? "lost" : std::string(scheduler::to_string(n.state));
        if (lost) {
            reasons.push_back(
                "this node's heartbeats have not reached the store for " +
                std::to_string(n.since_heartbeat.count()) + " ms (lease_ttl " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(n.lease_ttl).count()) +
                " ms): the other nodes see it as lost");
        }
        body["node"] = {{"name", n.name},
                        {"state", lost ? "lost" : scheduler::to_string(n.state)},
                        {"scheduler", n.scheduler},
                        {"heartbeat_age_ms", n.since_heartbeat.count()}};
    }
    const bool ready = reasons.empty();
    body["status"] = ready ? "ready" : "not_ready";
    body["checks"] = std::move(checks);
    body["reasons"] = std::move(reasons);
    done(json_response(ready ? 200 : 503, std::move(body)));
}

}  // namespace

void api::impl::check_store_once(std::function<void(std::optional<std::string>)> then) {
    const auto now = std::chrono::steady_clock::now();
    if (readiness_check && now - readiness_check->started >= readiness_store_budget) {
        // A check is still out (the store hangs until store.timeout): answer without queueing
        // another read behind it, so probes never take the API's store threads from the API.
        then("the store did not answer within 1s (a check started " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::seconds>(now - readiness_check->started)
                     .count()) +
             "s ago is still waiting)");
        return;
    }
    if (readiness_check) {
        readiness_check->waiting.push_back(std::move(then));  // at most 1s of probes
        return;
    }
    readiness_check = std::make_shared<store_check>();
    readiness_check->started = now;
    readiness_check->waiting.push_back(std::move(then));
    blocking([self = shared_from_this()] { return self->deps.store->schema_version(); },
             [self = shared_from_this(), check = readiness_check](core::result<int> v) {
                 if (self->readiness_check == check) {
                     self->readiness_check.reset();
                 }
                 std::optional<std::string> problem;
                 if (!v) {
                     problem = "the store is unreachable: " + v.error().message;
                 }
                 for (auto& waiter : check->waiting) {
                     waiter(problem);
                 }
             });
}

void api::impl::add_probe_routes() {
    // The reload count and last outcome ride along (from memory, like the rest of /livez):
    // `sluice reload` reads them before and after its SIGHUP.
    auto live = [this](request_context&, responder done) {
        nlohmann::json last = nullptr;
        if (last_reload_applied) {
            last = *last_reload_applied ? "applied" : "rejected";
        }
        done(json_response(
            200, {{"status", "ok"}, {"config", {{"reloads", reloads}, {"last_reload", last}}}}));
    };
    routes.add("GET", "/livez", access::open, live);
    routes.add("GET", "/healthz", access::open, live);

    routes.add("GET", "/readyz", access::open, [this](request_context&, responder done) {
        auto r = std::make_shared<readiness>();
        if (deps.node_status) {
            r->node = deps.node_status();
        }
        auto shared_done = std::make_shared<responder>(std::move(done));
        r->timer = std::make_unique<boost::asio::steady_timer>(deps.loop);
        r->timer->expires_after(readiness_store_budget);
        r->timer->async_wait([r, shared_done](boost::system::error_code ec) {
            if (ec || r->store_done) {
                return;
            }
            r->store_done = true;
            r->store_problem = "the store did not answer within 1s";
            finish_readiness(r, *shared_done);
        });
        check_store_once([r, shared_done](std::optional<std::string> problem) {
            if (r->store_done) {
                return;
            }
            r->store_done = true;
            r->store_problem = std::move(problem);
            finish_readiness(r, *shared_done);
        });
        deps.engine->async_stats(
            [self = shared_from_this(), r, shared_done](scheduler::engine_stats s) {
                // Ready also means the API serves /api routes (set once the start completed).
                s.started = s.started && self->started;
                r->stats = s;
                finish_readiness(r, *shared_done);
            });
    });

    routes.add("GET", "/metrics", access::open, [this](request_context&, responder done) {
        deps.engine->async_stats(
            [self = shared_from_this(), done = std::move(done)](scheduler::engine_stats s) {
                std::erase_if(self->streams, [](const std::weak_ptr<sse_stream>& w) {
                    auto s = w.lock();
                    return !s || s->detached();
                });
                self->metrics.set_open_streams(self->streams.size());
                http_response r;
                r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                std::optional<scheduler::node_status> node;
                if (self->deps.node_status) {
                    node = self->deps.node_status();
                }
                r.body = self->metrics.render(s, node);
                done(std::move(r));
            });
    });
}

}  // namespace sluice::web
