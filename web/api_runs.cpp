// Runs: list with filters and cursor pagination, detail with tasks, cancel, retry, mark.

#include "web/api_impl.hpp"

namespace sluice::web {

namespace {

constexpr std::size_t max_page = 500;

struct run_detail {
    std::optional<scheduler::run_record> run;
    std::vector<scheduler::task_instance_record> tasks;
    std::vector<scheduler::attempt_record> history;
};

http_response op_response(core::result<scheduler::run_op_status> r, std::int64_t run,
                          const char* action) {
    using code = scheduler::run_op_status::code_t;
    if (!r) {
        return store_error(r.error());
    }
    switch (r->code) {
        case code::ok:
            break;
        case code::not_found:
            return error_response(404, "not_found", r->message);
        case code::conflict:
            return error_response(409, "conflict", r->message);
        case code::invalid:
            return error_response(400, "bad_request", r->message);
    }
    nlohmann::json j{{"run_id", run}, {"action", action}};
    if (!r->tasks.empty()) {
        j["tasks"] = r->tasks;
    }
    return json_response(200, j);
}

}  // namespace

void api::impl::add_run_routes() {
    routes.add("GET", "/api/v1/runs", access::viewer, [this](request_context& ctx, responder done) {
        scheduler::run_filter f;
        const auto& q = ctx.request.query;
        if (auto it = q.find("job"); it != q.end() && !it->second.empty()) {
            f.job = it->second;
        }
        if (auto it = q.find("state"); it != q.end() && !it->second.empty()) {
            f.state = scheduler::parse_run_state(it->second);
            if (!f.state) {
                return done(error_response(400, "bad_request",
                                           "state must be one of queued, running, success, "
                                           "failed, canceled, timed_out"));
            }
        }
        if (auto it = q.find("limit"); it != q.end()) {
            auto limit = parse_id(it->second);
            if (!limit || *limit > static_cast<std::int64_t>(max_page)) {
                return done(error_response(400, "bad_request", "limit must be 1-500"));
            }
            f.limit = static_cast<std::size_t>(*limit);
        }
        if (auto it = q.find("cursor"); it != q.end() && !it->second.empty()) {
            auto cursor = parse_id(it->second);
            if (!cursor) {
                return done(error_response(400, "bad_request",
                                           "cursor must be the next_cursor of a previous page"));
            }
            f.before = core::run_id{*cursor};
        }
        blocking([self = shared_from_this(), f] { return self->deps.store->list_runs(f); },
                 [done = std::move(done)](core::result<scheduler::run_page> page) {
                     if (!page) {
                         return done(store_error(page.error()));
                     }
                     nlohmann::json runs = nlohmann::json::array();
                     for (const auto& r : page->runs) {
                         runs.push_back(run_json(r));
                     }
                     done(json_response(
                         200, {{"runs", runs},
                               {"next_cursor", page->next_cursor
                                                   ? nlohmann::json(page->next_cursor->to_string())
                                                   : nlohmann::json(nullptr)}}));
                 });
    });

    routes.add(
        "GET", "/api/v1/runs/{id}", access::viewer, [this](request_context& ctx, responder done) {
            auto id = parse_id(ctx.params.at("id"));
            if (!id) {
                return done(error_response(400, "bad_request", "a run id is a positive integer"));
            }
            blocking(
                [self = shared_from_this(), id = core::run_id{*id}]() -> core::result<run_detail> {
                    auto run = self->deps.store->get_run(id);
                    if (!run) {
                        return run.error();
                    }
                    run_detail d{*run, {}, {}};
                    if (*run) {
                        auto tasks = self->deps.store->list_task_instances(id);
                        if (!tasks) {
                            return tasks.error();
                        }
                        d.tasks = std::move(*tasks);
                        auto history = self->deps.store->list_task_attempts(id);
                        if (!history) {
                            return history.error();
                        }
                        d.history = std::move(*history);
                    }
                    return d;
                },
                [done = std::move(done), id = *id](core::result<run_detail> d) {
                    if (!d) {
                        return done(store_error(d.error()));
                    }
                    if (!d->run) {
                        return done(error_response(404, "run_not_found",
                                                   "no run with id " + std::to_string(id)));
                    }
                    nlohmann::json j = run_json(*d->run);
                    j["tasks"] = nlohmann::json::array();
                    for (const auto& t : d->tasks) {
                        j["tasks"].push_back(task_json(t, d->history));
                    }
                    done(json_response(200, j));
                });
        });

    routes.add(
        "POST", "/api/v1/runs/{id}/cancel", access::operator_,
        [this](request_context& ctx, responder done) {
            auto id = parse_id(ctx.params.at("id"));
            if (!id) {
                return done(error_response(400, "bad_request", "a run id is a positive integer"));
            }
            http_response bad;
            if (!body_object(ctx.request, bad, {})) {
                return done(std::move(bad));
            }
            deps.engine->async_cancel(
                core::run_id{*id}, ctx.actor,
                [self = shared_from_this(), id = *id,
                 done = std::move(done)](core::result<bool> r) mutable {
                    if (!r) {
                        return done(store_error(r.error()));
                    }
                    if (*r) {
                        return done(json_response(200, {{"run_id", id}, {"action", "cancel"}}));
                    }
                    // Unknown, or finished already: the store tells which.
                    self->blocking(
                        [self, id] { return self->deps.store->get_run(core::run_id{id}); },
                        [id, done = std::move(done)](
                            core::result<std::optional<scheduler::run_record>> run) {
                            if (!run) {
                                return done(store_error(run.error()));
                            }
                            if (!*run) {
                                return done(error_response(404, "run_not_found",
                                                           "no run with id " + std::to_string(id)));
                            }
                            done(error_response(
                                409, "conflict",
                                "run " + std::to_string(id) + " is already " +
                                    std::string(scheduler::to_string((*run)->state)) +
                                    (scheduler::is_terminal((*run)->state)
                                         ? ""
                                         : " on another instance")));
                        });
                });
        });

    routes.add(
        "POST", "/api/v1/runs/{id}/retry", access::operator_,
        [this](request_context& ctx, responder done) {
            auto id = parse_id(ctx.params.at("id"));
            if (!id) {
                return done(error_response(400, "bad_request", "a run id is a positive integer"));
            }
            http_response bad;
            if (!body_object(ctx.request, bad, {})) {
                return done(std::move(bad));
            }
            deps.engine->async_retry_run(
                core::run_id{*id}, ctx.actor,
                [id = *id, done = std::move(done)](core::result<scheduler::run_op_status> r) {
                    done(op_response(std::move(r), id, "retry"));
                });
        });

    routes.add(
        "POST", "/api/v1/runs/{id}/tasks/{task}/mark", access::operator_,
        [this](request_context& ctx, responder done) {
            auto id = parse_id(ctx.params.at("id"));
            if (!id) {
                return done(error_response(400, "bad_request", "a run id is a positive integer"));
            }
            http_response bad;
            auto body = body_object(ctx.request, bad, {"state"});
            if (!body) {
                return done(std::move(bad));
            }
            const auto state = body->value("state", nlohmann::json(nullptr));
            if (!state.is_string() ||
                (state.get<std::string>() != "success" && state.get<std::string>() != "failed")) {
                return done(
                    error_response(400, "bad_request",
                                   R"(the body is {"state":"success"} or {"state":"failed"})"));
            }
            deps.engine->async_mark_task(
                core::run_id{*id}, ctx.params.at("task"),
                state.get<std::string>() == "success" ? scheduler::task_state::success
                                                      : scheduler::task_state::failed,
                ctx.actor,
                [id = *id, done = std::move(done)](core::result<scheduler::run_op_status> r) {
                    done(op_response(std::move(r), id, "mark"));
                });
        });
}

}  // namespace sluice::web
