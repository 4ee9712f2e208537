#include "web/api.hpp"

#include <algorithm>
#include <future>
#include <set>

#include <spdlog/spdlog.h>

#include "core/json_depth.hpp"
#include "core/logging.hpp"
#include "core/printable.hpp"
#include "core/time.hpp"
#include "web/api_copies.hpp"
#include "web/api_impl.hpp"
#include "web/api_nodes.hpp"
#include "web/api_schedule.hpp"
#include "web/host_check.hpp"
#include "web/page_assets.hpp"

namespace sluice::web {

http_response json_response(int status, const nlohmann::json& body) {
    http_response r;
    r.status = status;
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

http_response error_response(int status, std::string_view code, std::string_view message) {
    return json_response(status, {{"error", {{"code", code}, {"message", message}}}});
}

http_response store_error(const core::error& e) {
    auto r = error_response(503, "store_unavailable", "the run-state store failed: " + e.message);
    r.headers.emplace_back("Retry-After", "1");
    return r;
}

std::optional<nlohmann::json> body_object(const http_request& request, http_response& error,
                                          std::initializer_list<std::string_view> fields) {
    if (request.body.empty()) {
        return nlohmann::json::object();
    }
    // Before parsing: copying or dumping a value recurses once per level.
    if (!core::json_depth_within(request.body)) {
        error = error_response(400, "json_too_deep",
                               "the request body nests arrays or objects deeper than " +
                                   std::to_string(core::max_json_depth) + " levels");
        return std::nullopt;
    }
    auto j = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        error = error_response(400, "malformed_json", "the request body is not valid JSON");
        return std::nullopt;
    }
    if (!j.is_object()) {
        error = error_response(400, "malformed_json", "the request body must be a JSON object");
        return std::nullopt;
    }
    for (const auto& [key, value] : j.items()) {
        if (std::find(fields.begin(), fields.end(), key) == fields.end()) {
            std::string taken;
            for (const std::string_view f : fields) {
                taken += (taken.empty() ? "" : ", ") + std::string(f);
            }
            const std::string shown = key.size() > 64 ? key.substr(0, 64) + "..." : key;
            error = error_response(
                400, "bad_request",
                "unknown field '" + shown + "'; " +
                    (taken.empty() ? "this call takes no body" : "this call takes " + taken));
            return std::nullopt;
        }
    }
    return j;
}

std::optional<std::map<std::string, std::string>> params_member(const nlohmann::json& body,
                                                                std::string& problem) {
    std::map<std::string, std::string> out;
    auto params = body.find("params");
    if (params == body.end() || params->is_null()) {
        return out;
    }
    if (!params->is_object()) {
        problem = "'params' must be a JSON object of names to values";
        return std::nullopt;
    }
    for (const auto& [k, v] : params->items()) {
        if (v.is_string()) {
            out[k] = v.get<std::string>();
        } else if (v.is_number() || v.is_boolean()) {
            out[k] = v.dump();
        } else {
            problem = "param '" + k + "' must be a string, number or boolean";
            return std::nullopt;
        }
    }
    return out;
}

nlohmann::json time_json(const std::optional<core::time_point>& t) {
    if (!t) {
        return nullptr;
    }
    return core::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(*t));
}

nlohmann::json run_json(const scheduler::run_record& r) {
    auto params = nlohmann::json::parse(r.params_json, nullptr, false);
    return {
        {"id", r.id.value},
        {"job", r.job},
        {"state", scheduler::to_string(r.state)},
        {"trigger", scheduler::to_string(r.trigger)},
        {"params", params.is_discarded() ? nlohmann::json::object() : params},
        {"logical_time", time_json(r.logical_time)},
        {"data_interval_start", time_json(r.data_interval_start)},
        {"data_interval_end", time_json(r.data_interval_end)},
        {"backfill_id", r.backfill ? nlohmann::json(r.backfill->value) : nlohmann::json(nullptr)},
        {"created_at", time_json(r.created_at)},
        {"started_at", time_json(r.started_at)},
        {"finished_at", time_json(r.finished_at)},
    };
}

namespace {

nlohmann::json error_json(const std::optional<core::error_class>& cls,
                          const std::optional<std::string>& message) {
    if (!message || message->empty()) {
        return nullptr;
    }
    return {{"class", cls ? nlohmann::json(scheduler::to_string(*cls)) : nlohmann::json(nullptr)},
            {"message", *message}};
}

nlohmann::json optional_text_json(const std::optional<std::string>& text) {
    return text ? nlohmann::json(*text) : nlohmann::json(nullptr);
}

nlohmann::json metrics_json(const std::string& text) {
    auto metrics = nlohmann::json::parse(text, nullptr, false);
    return metrics.is_discarded() ? nlohmann::json::object() : metrics;
}

}  // namespace

nlohmann::json task_json(const scheduler::task_instance_record& t,
                         std::span<const scheduler::attempt_record> history) {
    nlohmann::json error = error_json(t.error_cls, t.error_message);
    // Superseded tries from the history, then the newest from the task row. A try missing from
    // the history (run by a version before it was kept) is listed by its number only.
    nlohmann::json attempts = nlohmann::json::array();
    for (int i = 1; i <= t.try_number; ++i) {
        auto kept =
            std::find_if(history.begin(), history.end(), [&](const scheduler::attempt_record& a) {
                return a.task_instance == t.id && a.try_number == i;
            });
        if (i == t.try_number) {
            attempts.push_back({{"try", i},
                                {"state", scheduler::to_string(t.state)},
                                {"started_at", time_json(t.started_at)},
                                {"finished_at", time_json(t.finished_at)},
                                {"error", error},
                                {"metrics", metrics_json(t.metrics_json)},
                                {"node", optional_text_json(t.lease_owner)}});
        } else if (kept != history.end()) {
            attempts.push_back({{"try", i},
                                {"state", scheduler::to_string(kept->state)},
                                {"started_at", time_json(kept->started_at)},
                                {"finished_at", time_json(kept->finished_at)},
                                {"error", error_json(kept->error_cls, kept->error_message)},
                                {"metrics", metrics_json(kept->metrics_json)},
                                {"node", optional_text_json(kept->node)}});
        } else {
            attempts.push_back({{"try", i}, {"state", nullptr}, {"outcome", "retried"}});
        }
    }
    return {
        {"task", t.task},
        {"state", scheduler::to_string(t.state)},
        {"try_number", t.try_number},
        {"max_tries", t.max_tries},
        {"interruptions", t.interruptions},
        {"queued_at", time_json(t.queued_at)},
        {"started_at", time_json(t.started_at)},
        {"finished_at", time_json(t.finished_at)},
        {"next_attempt_at", time_json(t.next_attempt_at)},
        {"error", error},
        {"metrics", metrics_json(t.metrics_json)},
        {"outputs", metrics_json(t.outputs_json)},
        {"attempts", attempts},
    };
}

std::optional<std::int64_t> parse_id(std::string_view text) {
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    const std::int64_t v = std::stoll(std::string(text));
    return v > 0 ? std::optional(v) : std::nullopt;
}

api::impl::impl(api_dependencies d, api_options o)
    : deps(d),
      options(o),
      auth(d.config.server.tokens),
      pool(static_cast<std::size_t>(std::max(1, o.store_threads))),
      log(core::component_logger("web")),
      audit_strand(boost::asio::make_strand(pool.get_executor())) {}

std::shared_ptr<sse_stream> api::impl::open_stream() {
    std::erase_if(streams, [](const std::weak_ptr<sse_stream>& w) {
        auto s = w.lock();
        return !s || s->detached();
    });
    if (streams.size() >= options.max_streams) {
        return nullptr;
    }
    auto s = std::make_shared<sse_stream>(deps.config.server.sse_queue_limit);
    streams.push_back(s);
    metrics.set_open_streams(streams.size());
    return s;
}

void api::impl::handle(http_request request, responder done) {
    // The Host a browser resolved: a foreign name means DNS rebinding (docs/api.md#hosts).
    if (!host_allowed(deps.config.server, auth.enabled(), request.header("host"))) {
        metrics.observe_request("other", "unmatched", 421);
        return done(error_response(421, "unknown_host",
                                   "this server does not answer to Host '" +
                                       host_name_of(*request.header("host")) +
                                       "'; add it to server.allowed_hosts"));
    }
    auto m = routes.match(request.method, request.path);
    if (m.found == nullptr && m.allowed.empty()) {
        if (auto page = serve_page(request)) {
            metrics.observe_request("GET", "page", page->status);
            return done(std::move(*page));
        }
    }
    // Methods outside the known set are counted as "other": the label set stays bounded.
    static const std::set<std::string> methods{"GET", "POST", "PUT", "DELETE", "HEAD"};
    done = [self = shared_from_this(),
            method = methods.contains(request.method) ? request.method : std::string("other"),
            route = m.found != nullptr ? m.found->pattern : std::string("unmatched"),
            done = std::move(done)](http_response r) {
        self->metrics.observe_request(method, route, r.status);
        done(std::move(r));
    };
    if (m.found == nullptr) {
        if (!m.allowed.empty()) {
            std::string allow;
            for (const auto& a : m.allowed) {
                allow += (allow.empty() ? "" : ", ") + a;
            }
            auto r = error_response(405, "method_not_allowed",
                                    "this path accepts " + allow + ", not " + request.method);
            r.headers.emplace_back("Allow", allow);
            return done(std::move(r));
        }
        return done(error_response(404, "not_found", "no such endpoint"));
    }
    const route& route = *m.found;
    if (!started && route.pattern.starts_with("/api/")) {
        auto r = error_response(503, "starting",
                                "the scheduler is still starting (loading jobs, reconciling "
                                "runs); retry shortly");
        r.headers.emplace_back("Retry-After", "1");
        return done(std::move(r));
    }
    access needs = route.needs;
    if (route.pattern == "/metrics" && deps.config.server.metrics_auth) {
        needs = access::viewer;
    }
    auto ctx = std::make_shared<request_context>();
    ctx->actor = "api:anonymous";
    ctx->request.method = request.method;
    ctx->request.path = request.path;
    ctx->request.remote = request.remote;
    ctx->params = m.params;
    if (route.audited) {
        // Every mutating call is audited, refused ones (401, 403, 4xx) included.
        done = [self = shared_from_this(), ctx, done = std::move(done)](http_response r) {
            self->audit(*ctx, r.status);
            done(std::move(r));
        };
    }
    if (needs != access::open && auth.enabled()) {
        auto who = auth.authenticate(request.header("authorization"));
        if (!who) {
            auto r = error_response(401, "unauthorized",
                                    "send a valid token as `Authorization: Bearer TOKEN`");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
            return done(std::move(r));
        }
        ctx->actor = "api:" + who->name;
        if (!allows(who->role, needs)) {
            return done(error_response(
                403, "forbidden",
                "token '" + who->name + "' has role " + std::string(config::to_string(who->role)) +
                    "; this call needs " +
                    (needs == access::admin ? "admin" : "operator or admin")));
        }
    }
    // Mutating calls need the JSON type even with an empty body: a cross-site HTML form can
    // only send form or text types, so it can never trigger, pause or cancel.
    if (route.audited) {
        const std::string* type = request.header("content-type");
        std::string t = type ? *type : "";
        std::transform(t.begin(), t.end(), t.begin(), [](char c) {
            return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        });
        if (!t.starts_with("application/json")) {
            return done(error_response(415, "unsupported_media_type",
                                       "send Content-Type: application/json with every POST, PUT "
                                       "and DELETE (an empty body included)"));
        }
    }
    ctx->request = std::move(request);
    route.handler(*ctx, std::move(done));
}

void api::impl::audit(const request_context& ctx, int status) {
    const auto now = std::chrono::steady_clock::now();
    flush_refusals(now);
    if (status >= 400 && !refusals.admit(ctx.request.remote, ctx.request.method, ctx.request.path,
                                         status, ctx.actor, now)) {
        return;  // a repeat: counted, recorded in the minute's summary
    }
    scheduler::new_event e;
    e.at = std::chrono::system_clock::now();
    e.kind = "audit";
    e.actor = ctx.actor;
    if (auto it = ctx.params.values.find("job"); it != ctx.params.values.end()) {
        e.job = it->second;
    }
    if (auto it = ctx.params.values.find("id"); it != ctx.params.values.end()) {
        if (auto id = parse_id(it->second)) {
            e.run = core::run_id{*id};
        }
    }
    if (auto it = ctx.params.values.find("task"); it != ctx.params.values.end()) {
        e.task = it->second;
    }
    const std::string path = refusal_audit::cut_path(ctx.request.path);
    e.payload_json =
        nlohmann::json{{"method", ctx.request.method}, {"path", path}, {"status", status}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
    log->info("audit: {} {} {} -> {}", core::printable(ctx.actor),
              core::printable(ctx.request.method), core::printable(path), status);
    record_audit(std::move(e));
}

void api::impl::flush_refusals(std::chrono::steady_clock::time_point now) {
    for (auto& s : refusals.take_finished(now)) {
        scheduler::new_event e;
        e.at = std::chrono::system_clock::now();
        e.kind = "audit";
        e.actor = s.actor;
        e.payload_json = nlohmann::json{
            {"method", s.method},
            {"path", s.path},
            {"status", s.status},
            {"client", s.client},
            {"repeats",
             s.repeats}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        log->info("audit: {} {} {} -> {}: {} more refused from {} in the last minute",
                  core::printable(s.actor), core::printable(s.method), core::printable(s.path),
                  s.status, s.repeats, core::printable(s.client));
        record_audit(std::move(e));
    }
}

void api::impl::record_audit(scheduler::new_event e) {
    if (deps.submit_audit) {
        // In the group commit: a burst of triggers costs one commit for the runs and their
        // audit records together, not one more transaction per call (docs/operations.md,
        // "Group commit"). The writer outlives the API and commits what it holds when the
        // daemon stops, so a record submitted here is never lost to the shutdown; only the
        // weak reference decides whether a stream still hears of it.
        std::vector<scheduler::transition> batch;
        batch.emplace_back(e);
        // Completes on the writer thread, which must never hold the last reference to the
        // API: it only posts to the loop, which outlives both.
        deps.submit_audit(std::move(batch), [weak = weak_from_this(), loop = &deps.loop, log = log,
                                             actor = e.actor](auto r) {
            if (!r) {
                log->error("could not record an audit event ({} audit): {}", actor,
                           r.error().message);
                return;
            }
            boost::asio::post(*loop, [weak] {
                if (auto self = weak.lock()) {
                    self->event_committed();  // streams read it from the store, with its id
                }
            });
        });
        return;
    }
    boost::asio::post(audit_strand, [self = shared_from_this(), e = std::move(e)] {
        auto r = self->deps.store->append_event(e);
        if (!r) {
            self->log->error("could not record an audit event ({} {}): {}", e.actor, e.kind,
                             r.error().message);
            return;
        }
        // Streams get it from the store, with its id (api_event_feed.cpp).
        boost::asio::post(self->deps.loop, [self] { self->event_committed(); });
    });
}

api::api(api_dependencies deps, api_options options)
    : impl_(std::make_shared<impl>(deps, options)) {
    impl_->add_probe_routes();
    impl_->add_job_routes();
    impl_->add_run_routes();
    impl_->add_stream_routes();
    impl_->add_variable_routes();
    impl_->add_backfill_routes();
    impl_->add_session_routes();
    add_schedule_routes(*impl_);
    add_copy_routes(*impl_);
    add_node_routes(*impl_);
    impl_->add_variable_list_route();
}

namespace {
constexpr std::chrono::seconds audit_drain_bound{5};
}  // namespace

api::~api() {
    if (impl_->keepalive) {
        impl_->keepalive->cancel();
    }
    // Refusals counted in a window that has not ended yet get their summary now, so the repeats
    // of the last minute are audited too (the loop has stopped: nothing else touches them).
    impl_->flush_refusals(std::chrono::steady_clock::now() + std::chrono::hours(24));
    // Audit records queued before the shutdown are written first (bounded: a store that hangs
    // does not hold the exit; the log line of each call was written already).
    auto drained = std::make_shared<std::promise<void>>();
    auto done = drained->get_future();
    boost::asio::post(impl_->audit_strand, [drained] { drained->set_value(); });
    if (done.wait_for(audit_drain_bound) != std::future_status::ready) {
        impl_->log->warn("shutdown: audit records still queued after {}s are not stored",
                         audit_drain_bound.count());
    }
    // Join the store threads, then drop the work they never ran: afterwards nothing but the
    // loop holds the impl.
    impl_->pool.stop();
    impl_->pool.join();
    impl_->pool.discard_queued();
}

void api::handle(http_request request, responder done) {
    impl_->handle(std::move(request), std::move(done));
}

void api::impl::arm_keepalive() {
    keepalive->expires_after(options.keepalive_interval);
    keepalive->async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        for (const auto& weak : self->streams) {
            if (auto s = weak.lock()) {
                s->push(": keepalive\n\n");
            }
        }
        // Summaries of refused calls are written when their minute is over, even if no
        // request comes after it.
        self->flush_refusals(std::chrono::steady_clock::now());
        // Events another process stored (a shared PostgreSQL store) reach the streams too.
        if (self->hub.subscribers() > 0) {
            self->event_committed();
        }
        self->arm_keepalive();
    });
}

void api::reconfigure(std::shared_ptr<const config::sluice_config> next) {
    impl_->auth = token_auth(next->server.tokens);
    impl_->reloaded = std::move(next);
}

void api::note_reload(bool applied) {
    ++impl_->reloads;
    impl_->last_reload_applied = applied;
}

void api::set_started() {
    impl_->started = true;
    impl_->keepalive = std::make_unique<boost::asio::steady_timer>(impl_->deps.loop);
    impl_->arm_keepalive();
}

void api::publish(const scheduler::new_event& e) {
    impl_->metrics.observe(e);
    // Progress is not stored (docs/api.md): it goes out live, without an id. Everything else
    // reaches the streams from the store with its id (api_event_feed.cpp).
    if (e.kind == "task.progress") {
        impl_->hub.deliver_unstored(e);
    } else {
        impl_->event_committed();
    }
}

void api::observe_store_commit(double seconds) {
    impl_->metrics.observe_store_commit(seconds);
}

void api::observe_notification(std::string_view channel, std::string_view event,
                               std::string_view result) {
    impl_->metrics.observe_notification(channel, event, result);
}

void api::observe_lease_renewal(double seconds) {
    impl_->metrics.observe_lease_renewal(seconds);
}

void api::observe_sla_miss(const std::string& job) {
    impl_->metrics.observe_sla_miss(job);
}

const std::vector<route>& api::routes() const {
    return impl_->routes.routes();
}

std::vector<std::pair<std::string, std::string>> api::route_table() {
    // Handlers are only registered, never called: no engine or store is needed.
    static const config::sluice_config config;
    boost::asio::io_context loop;
    api a(api_dependencies{config, nullptr, nullptr, loop, {}}, api_options{.store_threads = 1});
    std::vector<std::pair<std::string, std::string>> out;
    for (const route& r : a.routes()) {
        out.emplace_back(r.method, r.pattern);
    }
    return out;
}

}  // namespace sluice::web
