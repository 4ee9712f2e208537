// Backfills: start one (or plan it, dry_run), list, detail, pause/resume/cancel.

#include <set>

#include "core/range_bound.hpp"
#include "core/time.hpp"
#include "web/api_impl.hpp"

namespace sluice::web {

namespace {

constexpr std::size_t max_backfill_page = 500;

nlohmann::json backfill_json(const scheduler::backfill_record& b) {
    const auto& c = b.runs;
    const std::int64_t done = b.steps;
    const auto params = nlohmann::json::parse(b.params_json, nullptr, false);
    return {
        {"id", b.id.value},
        {"job", b.job},
        {"state", scheduler::to_string(b.state)},
        {"start", time_json(b.range_start)},
        {"end", time_json(b.range_end)},
        {"order", scheduler::to_string(b.order)},
        {"max_active_runs", b.max_active_runs},
        {"reprocess", scheduler::to_string(b.reprocess)},
        {"params", params.is_object() ? params : nlohmann::json::object()},
        {"created_by", b.actor},
        {"created_at", time_json(b.created_at)},
        {"updated_at", time_json(b.updated_at)},
        {"cursor", time_json(b.cursor)},
        {"counts",
         {{"planned", b.planned},
          {"done", done},
          {"skipped", b.skipped},
          {"created", c.created},
          {"queued", c.queued},
          {"running", c.running},
          {"succeeded", c.succeeded},
          {"failed", c.failed},
          {"canceled", c.canceled}}},
        // Intervals dealt with (run created or skipped) out of those planned; finished runs
        // and skips over planned is the share of the work that is complete.
        {"progress", b.planned > 0
                         ? static_cast<double>(b.skipped + c.succeeded + c.failed + c.canceled) /
                               static_cast<double>(b.planned)
                         : 1.0},
    };
}

nlohmann::json planned_run_json(const scheduler::planned_backfill_run& p) {
    nlohmann::json j{
        {"logical_time", core::format_rfc3339_utc(p.interval.logical_time)},
        {"data_interval_start", core::format_rfc3339_utc(p.interval.data_interval_start)},
        {"data_interval_end", core::format_rfc3339_utc(p.interval.data_interval_end)},
        {"existing", scheduler::to_string(p.existing)},
        {"action", p.skip ? "skip" : "run"},
    };
    if (!p.bounds.empty()) {
        nlohmann::json tasks = nlohmann::json::array();
        for (const auto& b : p.bounds) {
            auto bounds = nlohmann::json::parse(b.bounds_json, nullptr, false);
            tasks.push_back(
                {{"task", b.task},
                 {"bounds", bounds.is_discarded() ? nlohmann::json(b.bounds_json) : bounds}});
        }
        j["tasks"] = tasks;
    }
    return j;
}

// Reads an optional string member; false (with `error` set) when present but not a string.
bool optional_string(const nlohmann::json& body, const char* name, std::optional<std::string>& out,
                     http_response& error) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) {
        return true;
    }
    if (!it->is_string()) {
        error = error_response(400, "bad_request", std::string(name) + " must be a string");
        return false;
    }
    out = it->get<std::string>();
    return true;
}

// The request body as a backfill_request; nullopt with `error` set to a 400 when malformed.
// `zone` is the job's: a date alone means midnight there.
std::optional<scheduler::backfill_request> parse_request(const nlohmann::json& body,
                                                         const date::time_zone* zone,
                                                         http_response& error) {
    scheduler::backfill_request r;
    for (const char* name : {"start", "end"}) {
        std::optional<std::string> text;
        if (!optional_string(body, name, text, error)) {
            return std::nullopt;
        }
        if (!text) {
            error = error_response(
                400, "bad_request",
                std::string(name) +
                    " is required (RFC 3339, e.g. 2026-01-01T00:00:00Z, or a date alone, "
                    "2026-01-01, midnight in the job's time zone)");
            return std::nullopt;
        }
        auto t = core::parse_instant_or_date(*text, zone);
        if (!t) {
            error =
                error_response(400, "bad_request", std::string(name) + ": " + t.error().message);
            return std::nullopt;
        }
        (std::string_view(name) == "start" ? r.from : r.to) = *t;
    }
    std::optional<std::string> order;
    std::optional<std::string> reprocess;
    if (!optional_string(body, "order", order, error) ||
        !optional_string(body, "reprocess", reprocess, error)) {
        return std::nullopt;
    }
    if (order) {
        auto o = scheduler::parse_backfill_order(*order);
        if (!o) {
            error =
                error_response(400, "bad_request", "order must be oldest_first or newest_first");
            return std::nullopt;
        }
        r.order = *o;
    }
    if (reprocess) {
        auto m = scheduler::parse_reprocess_mode(*reprocess);
        if (!m) {
            error = error_response(400, "bad_request", "reprocess must be none, failed or all");
            return std::nullopt;
        }
        r.reprocess = *m;
    }
    if (auto it = body.find("max_active_runs"); it != body.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
            it->get<std::int64_t>() > scheduler::max_backfill_active_runs) {
            error = error_response(400, "bad_request",
                                   "max_active_runs must be an integer 1-" +
                                       std::to_string(scheduler::max_backfill_active_runs));
            return std::nullopt;
        }
        r.max_active_runs = static_cast<int>(it->get<std::int64_t>());
    }
    if (auto it = body.find("dry_run"); it != body.end() && !it->is_null()) {
        if (!it->is_boolean()) {
            error = error_response(400, "bad_request", "dry_run must be true or false");
            return std::nullopt;
        }
        r.dry_run = it->get<bool>();
    }
    std::string problem;
    auto params = params_member(body, problem);
    if (!params) {
        error = error_response(400, "bad_request", problem);
        return std::nullopt;
    }
    r.params = std::move(*params);
    return r;
}

}  // namespace

void api::impl::add_backfill_routes() {
    routes.add(
        "POST", "/api/v1/jobs/{job}/backfills", access::operator_,
        [this](request_context& ctx, responder done) {
            http_response bad;
            auto body = body_object(
                ctx.request, bad,
                {"start", "end", "order", "max_active_runs", "reprocess", "dry_run", "params"});
            if (!body) {
                return done(std::move(bad));
            }
            const std::string job = ctx.params.at("job");
            const config::job_spec* spec = jobs_config().find_job(job);
            if (spec == nullptr) {
                return done(
                    error_response(404, "job_not_found", jobs_config().unknown_job_message(job)));
            }
            // The config loader checked the zone; UTC stands in should it vanish from tzdata.
            auto zone = core::find_time_zone(spec->timezone);
            auto request = parse_request(*body, zone ? *zone : nullptr, bad);
            if (!request) {
                return done(std::move(bad));
            }
            request->job = job;
            request->actor = ctx.actor;
            const bool dry_run = request->dry_run;
            deps.engine->async_create_backfill(
                std::move(*request), [self = shared_from_this(), dry_run, done = std::move(done)](
                                         scheduler::backfill_result r) mutable {
                    if (!r) {
                        const auto& e = r.error();
                        switch (e.code) {
                            case scheduler::backfill_errc::unknown_job:
                                return done(error_response(404, "job_not_found", e.message));
                            case scheduler::backfill_errc::bad_request:
                                return done(error_response(400, "bad_request", e.message));
                            case scheduler::backfill_errc::shutting_down:
                                return done(error_response(503, "shutting_down", e.message));
                            case scheduler::backfill_errc::store_failure:
                                break;
                        }
                        return done(error_response(503, "store_unavailable", e.message));
                    }
                    if (dry_run) {
                        nlohmann::json runs = nlohmann::json::array();
                        std::size_t skipped = 0;
                        for (const auto& p : r->runs) {
                            runs.push_back(planned_run_json(p));
                            skipped += p.skip ? 1 : 0;
                        }
                        return done(json_response(200, {{"dry_run", true},
                                                        {"planned", r->runs.size()},
                                                        {"would_run", r->runs.size() - skipped},
                                                        {"would_skip", skipped},
                                                        {"runs", runs}}));
                    }
                    done(json_response(201, backfill_json(*r->backfill)));
                });
        });

    routes.add(
        "GET", "/api/v1/backfills", access::viewer, [this](request_context& ctx, responder done) {
            scheduler::backfill_filter f;
            const auto& q = ctx.request.query;
            if (auto it = q.find("job"); it != q.end() && !it->second.empty()) {
                f.job = it->second;
            }
            if (auto it = q.find("limit"); it != q.end()) {
                auto limit = parse_id(it->second);
                if (!limit || *limit > static_cast<std::int64_t>(max_backfill_page)) {
                    return done(error_response(400, "bad_request", "limit must be 1-500"));
                }
                f.limit = static_cast<std::size_t>(*limit);
            }
            blocking([self = shared_from_this(), f] { return self->deps.store->list_backfills(f); },
                     [done = std::move(done)](
                         core::result<std::vector<scheduler::backfill_record>> list) {
                         if (!list) {
                             return done(store_error(list.error()));
                         }
                         nlohmann::json out = nlohmann::json::array();
                         for (const auto& b : *list) {
                             out.push_back(backfill_json(b));
                         }
                         done(json_response(200, {{"backfills", out}}));
                     });
        });

    routes.add(
        "GET", "/api/v1/backfills/{id}", access::viewer,
        [this](request_context& ctx, responder done) {
            auto id = parse_id(ctx.params.at("id"));
            if (!id) {
                return done(
                    error_response(400, "bad_request", "a backfill id is a positive integer"));
            }
            blocking(
                [self = shared_from_this(), id = core::backfill_id{*id}] {
                    return self->deps.store->get_backfill(id);
                },
                [done = std::move(done),
                 id = *id](core::result<std::optional<scheduler::backfill_record>> b) {
                    if (!b) {
                        return done(store_error(b.error()));
                    }
                    if (!*b) {
                        return done(error_response(404, "backfill_not_found",
                                                   "no backfill with id " + std::to_string(id)));
                    }
                    done(json_response(200, backfill_json(**b)));
                });
        });

    struct action_route {
        const char* path;
        const char* name;
        scheduler::backfill_action action;
    };
    for (const action_route& a :
         {action_route{"/api/v1/backfills/{id}/pause", "pause", scheduler::backfill_action::pause},
          action_route{"/api/v1/backfills/{id}/resume", "resume",
                       scheduler::backfill_action::resume},
          action_route{"/api/v1/backfills/{id}/cancel", "cancel",
                       scheduler::backfill_action::cancel}}) {
        routes.add(
            "POST", a.path, access::operator_, [this, a](request_context& ctx, responder done) {
                auto id = parse_id(ctx.params.at("id"));
                if (!id) {
                    return done(
                        error_response(400, "bad_request", "a backfill id is a positive integer"));
                }
                http_response bad;
                if (!body_object(ctx.request, bad, {})) {
                    return done(std::move(bad));
                }
                deps.engine->async_backfill_action(
                    core::backfill_id{*id}, a.action, ctx.actor,
                    [id = *id, name = a.name,
                     done = std::move(done)](core::result<scheduler::run_op_status> r) {
                        using code = scheduler::run_op_status::code_t;
                        if (!r) {
                            return done(store_error(r.error()));
                        }
                        switch (r->code) {
                            case code::ok:
                                return done(json_response(200, {{"backfill_id", id},
                                                                {"action", name},
                                                                {"state", r->message}}));
                            case code::not_found:
                                return done(error_response(404, "backfill_not_found", r->message));
                            case code::conflict:
                                return done(error_response(409, "conflict", r->message));
                            case code::invalid:
                                return done(error_response(400, "bad_request", r->message));
                        }
                    });
            });
    }
}

}  // namespace sluice::web
