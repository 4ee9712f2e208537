// Jobs: list, detail (spec, schedule in words, next fire times, recent runs), the runs × tasks
// grid, pause, unpause, trigger.

#include "core/duration.hpp"
#include "core/time.hpp"
#include "scheduler/cron/cron_expression.hpp"
#include "web/api_impl.hpp"

namespace sluice::web {

namespace {

constexpr int next_fire_count = 5;
constexpr std::size_t recent_run_count = 10;
// Runs in one page of the grid: 25 by default (the page's grid), at most 100.
constexpr std::size_t default_grid_runs = 25;
constexpr std::size_t max_grid_runs = 100;
// Idempotency keys end up in run keys: bounded and printable.
constexpr std::size_t max_idempotency_key = 200;

// The webhook URL is shown redacted: its path usually is a secret token.
nlohmann::json notify_json(const config::job_spec& job) {
    if (!job.notify) {
        return nullptr;
    }
    nlohmann::json on = nlohmann::json::array();
    for (const auto event : job.notify->on) {
        on.push_back(config::to_string(event));
    }
    return {{"on", on},
            {"webhook", job.notify->webhook
                            ? nlohmann::json(config::redact_webhook_url(*job.notify->webhook))
                            : nlohmann::json(nullptr)},
            {"email",
             job.notify->email ? nlohmann::json(*job.notify->email) : nlohmann::json(nullptr)}};
}

// What the API shows of a job's definition. Task bodies (commands, SQL, URLs) are left out:
// they may carry interpolated secrets.
nlohmann::json job_spec_json(const config::job_spec& job) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : job.params) {
        params.push_back({{"name", p.name},
                          {"type", config::to_string(p.type)},
                          {"default", p.default_value ? nlohmann::json(*p.default_value)
                                                      : nlohmann::json(nullptr)},
                          {"required", p.required},
                          {"description", p.description},
                          {"values", p.values}});
    }
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : job.tasks) {
        tasks.push_back({{"name", t.name},
                         {"type", config::to_string(t.type)},
                         {"description", t.description},
                         {"depends_on", t.depends_on},
                         {"trigger_rule", config::to_string(t.rule)},
                         {"pool", t.pool ? nlohmann::json(*t.pool) : nlohmann::json(nullptr)},
                         {"max_attempts", t.retry.max_attempts},
                         {"timeout", t.timeout ? nlohmann::json(core::format_duration(*t.timeout))
                                               : nlohmann::json(nullptr)}});
    }
    return {
        {"name", job.name},
        {"description", job.description},
        {"tags", job.tags},
        {"schedule", job.schedule ? nlohmann::json(*job.schedule) : nlohmann::json(nullptr)},
        {"timezone", job.timezone},
        {"catchup", config::to_string(job.catchup)},
        {"concurrency", config::to_string(job.concurrency)},
        {"max_active_runs", job.max_active_runs},
        {"timeout", job.timeout ? nlohmann::json(core::format_duration(*job.timeout))
                                : nlohmann::json(nullptr)},
        {"sla",
         job.sla ? nlohmann::json(core::format_duration(*job.sla)) : nlohmann::json(nullptr)},
        {"notify", notify_json(job)},
        {"params", params},
        {"tasks", tasks},
    };
}

nlohmann::json status_json(const scheduler::job_status& s, const config::job_spec* spec) {
    nlohmann::json j{
        {"name", s.name},
        {"paused", s.paused},
        {"next_fire", s.next_fire ? nlohmann::json(core::format_rfc3339_utc(*s.next_fire))
                                  : nlohmann::json(nullptr)},
        {"active_runs", s.active_runs},
        {"waiting_runs", s.waiting_runs}};
    if (spec != nullptr) {
        j["description"] = spec->description;
        j["schedule"] = spec->schedule ? nlohmann::json(*spec->schedule) : nlohmann::json(nullptr);
        j["timezone"] = spec->timezone;
        j["tags"] = spec->tags;
        j["schedule_description"] = nullptr;
        if (spec->schedule) {
            if (auto cron = scheduler::cron_expression::parse(*spec->schedule)) {
                j["schedule_description"] = cron->describe();
            }
        }
    }
    return j;
}

// The schedule in words and its next fire times in the job's zone.
void add_schedule(nlohmann::json& j, const config::job_spec& job) {
    j["schedule_description"] = nullptr;
    j["next_fire_times"] = nlohmann::json::array();
    if (!job.schedule) {
        return;
    }
    auto cron = scheduler::cron_expression::parse(*job.schedule);
    auto zone = core::find_time_zone(job.timezone);
    if (!cron || !zone) {
        return;
    }
    j["schedule_description"] = cron->describe();
    auto t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    for (int i = 0; i < next_fire_count; ++i) {
        auto next = cron->next(t, *zone);
        if (!next) {
            break;
        }
        j["next_fire_times"].push_back(core::format_rfc3339(*next, *zone));
        t = *next;
    }
}

}  // namespace

void api::impl::add_job_routes() {
    routes.add("GET", "/api/v1/jobs", access::viewer, [this](request_context&, responder done) {
        deps.engine->async_jobs([self = shared_from_this(),
                                 done = std::move(done)](std::vector<scheduler::job_status> jobs) {
            nlohmann::json list = nlohmann::json::array();
            // In file order, as configured.
            for (const auto& spec : self->jobs_config().jobs) {
                for (const auto& s : jobs) {
                    if (s.name == spec.name) {
                        list.push_back(status_json(s, &spec));
                    }
                }
            }
            done(json_response(200, {{"jobs", list}}));
        });
    });

    routes.add(
        "GET", "/api/v1/jobs/{job}", access::viewer, [this](request_context& ctx, responder done) {
            const std::string name = ctx.params.at("job");
            const config::job_spec* spec = jobs_config().find_job(name);
            if (spec == nullptr) {
                return done(
                    error_response(404, "job_not_found", jobs_config().unknown_job_message(name)));
            }
            deps.engine->async_jobs(
                [self = shared_from_this(), spec, keep = jobs_keep_alive(), name,
                 done = std::move(done)](std::vector<scheduler::job_status> jobs) mutable {
                    nlohmann::json j = job_spec_json(*spec);
                    for (const auto& s : jobs) {
                        if (s.name == name) {
                            j["status"] = status_json(s, nullptr);
                        }
                    }
                    add_schedule(j, *spec);
                    self->blocking(
                        [self, name] {
                            scheduler::run_filter f;
                            f.job = name;
                            f.limit = recent_run_count;
                            return self->deps.store->list_runs(f);
                        },
                        [j = std::move(j),
                         done = std::move(done)](core::result<scheduler::run_page> page) mutable {
                            if (!page) {
                                return done(store_error(page.error()));
                            }
                            j["recent_runs"] = nlohmann::json::array();
                            for (const auto& r : page->runs) {
                                j["recent_runs"].push_back(run_json(r));
                            }
                            done(json_response(200, j));
                        });
                });
        });

    // The runs × tasks grid (docs/api.md#jobs): a page of runs with every task's state and try
    // in one call, so the page's grid costs one request whatever its width.
    routes.add(
        "GET", "/api/v1/jobs/{job}/grid", access::viewer,
        [this](request_context& ctx, responder done) {
            const std::string name = ctx.params.at("job");
            const config::job_spec* spec = jobs_config().find_job(name);
            if (spec == nullptr) {
                return done(
                    error_response(404, "job_not_found", jobs_config().unknown_job_message(name)));
            }
            const auto& q = ctx.request.query;
            std::size_t limit = default_grid_runs;
            if (auto it = q.find("limit"); it != q.end()) {
                auto l = parse_id(it->second);
                if (!l || *l > static_cast<std::int64_t>(max_grid_runs)) {
                    return done(error_response(400, "bad_request",
                                               "limit must be 1-" + std::to_string(max_grid_runs)));
                }
                limit = static_cast<std::size_t>(*l);
            }
            std::optional<core::run_id> before;
            if (auto it = q.find("cursor"); it != q.end() && !it->second.empty()) {
                auto cursor = parse_id(it->second);
                if (!cursor) {
                    return done(error_response(
                        400, "bad_request", "cursor must be the next_cursor of a previous page"));
                }
                before = core::run_id{*cursor};
            }
            nlohmann::json tasks = nlohmann::json::array();
            for (const auto& t : spec->tasks) {
                tasks.push_back(t.name);
            }
            blocking(
                [self = shared_from_this(), name, limit, before] {
                    return self->deps.store->job_grid(name, limit, before);
                },
                [name, tasks = std::move(tasks),
                 done = std::move(done)](core::result<scheduler::grid_page> page) {
                    if (!page) {
                        return done(store_error(page.error()));
                    }
                    nlohmann::json runs = nlohmann::json::array();
                    auto t = page->tasks.begin();
                    for (const auto& r : page->runs) {
                        nlohmann::json run = run_json(r);
                        nlohmann::json cells = nlohmann::json::array();
                        // Both lists are ordered by run, newest first.
                        for (; t != page->tasks.end() && t->run == r.id; ++t) {
                            cells.push_back({{"task", t->task},
                                             {"state", scheduler::to_string(t->state)},
                                             {"try_number", t->try_number}});
                        }
                        run["tasks"] = std::move(cells);
                        runs.push_back(std::move(run));
                    }
                    done(json_response(
                        200, {{"job", name},
                              {"tasks", tasks},
                              {"runs", runs},
                              {"next_cursor", page->next_cursor
                                                  ? nlohmann::json(page->next_cursor->to_string())
                                                  : nlohmann::json(nullptr)}}));
                });
        });

    for (const bool pause : {true, false}) {
        routes.add("POST", pause ? "/api/v1/jobs/{job}/pause" : "/api/v1/jobs/{job}/unpause",
                   access::operator_, [this, pause](request_context& ctx, responder done) {
                       http_response bad;
                       if (!body_object(ctx.request, bad, {})) {
                           return done(std::move(bad));
                       }
                       const std::string name = ctx.params.at("job");
                       deps.engine->async_set_paused(
                           name, pause, ctx.actor,
                           [name, pause, unknown = jobs_config().unknown_job_message(name),
                            done = std::move(done)](core::result<bool> r) {
                               if (!r) {
                                   return done(store_error(r.error()));
                               }
                               if (!*r) {
                                   return done(error_response(404, "job_not_found", unknown));
                               }
                               done(json_response(200, {{"job", name}, {"paused", pause}}));
                           });
                   });
    }

    routes.add(
        "POST", "/api/v1/jobs/{job}/runs", access::operator_,
        [this](request_context& ctx, responder done) {
            http_response bad;
            auto body = body_object(ctx.request, bad, {"params"});
            if (!body) {
                return done(std::move(bad));
            }
            std::string problem;
            auto params = params_member(*body, problem);
            if (!params) {
                return done(error_response(400, "bad_params", problem));
            }
            scheduler::trigger_request request;
            request.job = ctx.params.at("job");
            request.params = std::move(*params);
            request.actor = ctx.actor;
            if (const std::string* key = ctx.request.header("idempotency-key")) {
                const bool printable = std::all_of(key->begin(), key->end(),
                                                   [](char c) { return c > 0x20 && c < 0x7f; });
                if (key->empty() || key->size() > max_idempotency_key || !printable) {
                    return done(error_response(
                        400, "bad_idempotency_key",
                        "Idempotency-Key must be 1-200 printable characters without spaces"));
                }
                request.idempotency_key = *key;
            }
            const config::job_spec* spec = jobs_config().find_job(request.job);
            if (spec == nullptr) {
                return done(error_response(404, "job_not_found",
                                           jobs_config().unknown_job_message(request.job)));
            }
            if (spec->concurrency == config::concurrency_policy::forbid &&
                !request.idempotency_key) {
                // `concurrency: forbid` refuses a manual run beside an active one. (With an
                // Idempotency-Key the engine decides, so a retried request finds its run.)
                return deps.engine->async_jobs(
                    [self = shared_from_this(), request = std::move(request),
                     done = std::move(done)](std::vector<scheduler::job_status> jobs) mutable {
                        for (const auto& s : jobs) {
                            if (s.name == request.job && s.active_runs + s.waiting_runs > 0) {
                                return done(error_response(
                                    409, "overlap_forbidden",
                                    "job " + request.job +
                                        " has concurrency: forbid and a run is active"));
                            }
                        }
                        self->trigger(std::move(request), std::move(done));
                    });
            }
            trigger(std::move(request), std::move(done));
        });
}

void api::impl::trigger(scheduler::trigger_request request, responder done) {
    deps.engine->async_trigger(
        std::move(request), [done = std::move(done)](scheduler::trigger_result r) {
            if (r) {
                // A repeated Idempotency-Key answers with the run it created first.
                return done(json_response(r->created ? 201 : 200,
                                          {{"run_id", r->run.value}, {"created", r->created}}));
            }
            const auto& e = r.error();
            switch (e.code) {
                case scheduler::trigger_errc::unknown_job:
                    return done(error_response(404, "job_not_found", e.message));
                case scheduler::trigger_errc::paused:
                    return done(error_response(409, "job_paused", e.message));
                case scheduler::trigger_errc::bad_params:
                    return done(error_response(400, "bad_params", e.message));
                case scheduler::trigger_errc::shutting_down:
                    return done(error_response(503, "shutting_down", e.message));
                case scheduler::trigger_errc::store_failure:
                    return done(error_response(503, "store_unavailable", e.message));
            }
        });
}

}  // namespace sluice::web
