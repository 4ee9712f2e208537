// Task logs (text, or followed as server-sent events) and the event stream / audit log.

#include <algorithm>
#include <array>
#include <string_view>

#include <boost/asio/steady_timer.hpp>

#include "web/api_impl.hpp"
#include "web/api_log_windows.hpp"

namespace sluice::web {

namespace {

constexpr std::size_t log_page = 1000;
// A plain-text log answer holds at most this many lines and bytes (follow has no such bound:
// it is paced by the client); beyond them it ends with a note saying so.
constexpr std::size_t max_text_log_lines = 100000;
constexpr std::size_t max_text_log_bytes = 16 * 1024 * 1024;
constexpr std::size_t max_event_page = 1000;

std::string sse_chunk(std::string_view event, const nlohmann::json& data) {
    return "event: " + std::string(event) +
           "\ndata: " + data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n\n";
}

// The attempt being followed ended: no running attempt now, and one had started (or the task
// finished without ever running).
bool attempt_over(const scheduler::task_instance_record& t) {
    using scheduler::task_state;
    return t.state != task_state::running && t.state != task_state::queued &&
           t.state != task_state::pending;
}

struct log_poll {
    std::vector<scheduler::stored_log_line> lines;
    std::optional<scheduler::task_instance_record> task;
};

// Follows one task instance's log: polls the store off-loop, pushes new lines, ends with an
// `end` event once the attempt is over and every line was sent.
struct log_follower : std::enable_shared_from_this<log_follower> {
    std::shared_ptr<api::impl> owner;
    std::shared_ptr<sse_stream> stream;
    core::task_instance_id task;
    std::int64_t after = 0;
    boost::asio::steady_timer timer;

    log_follower(std::shared_ptr<api::impl> a, std::shared_ptr<sse_stream> s,
                 core::task_instance_id t)
        : owner(std::move(a)), stream(std::move(s)), task(t), timer(owner->deps.loop) {}

    void poll() {
        if (stream->detached() || stream->closed()) {
            return;
        }
        owner->blocking(
            [api = owner, task = task, after = after]() -> core::result<log_poll> {
                // Read the state first: lines written before the attempt ended are then all
                // visible to the read below (the sink flushes before the end is recorded).
                auto t = api->deps.store->get_task_instance(task);
                if (!t) {
                    return t.error();
                }
                auto lines = api->deps.store->read_task_log(task, after, log_page);
                if (!lines) {
                    return lines.error();
                }
                return log_poll{std::move(*lines), std::move(*t)};
            },
            [self = shared_from_this()](core::result<log_poll> r) { self->on_poll(std::move(r)); });
    }

    void on_poll(core::result<log_poll> r) {
        if (stream->detached() || stream->closed()) {
            return;
        }
        if (!r) {
            stream->push(sse_chunk("error", {{"message", r.error().message}}));
            stream->close();
            return;
        }
        bool backlog = false;
        for (const auto& l : r->lines) {
            std::string chunk = sse_chunk("line", {{"seq", l.seq},
                                                   {"try", l.try_number},
                                                   {"stream", l.line.stream},
                                                   {"at", time_json(l.line.at)},
                                                   {"text", l.line.text}});
            if (!stream->has_room(chunk.size())) {
                backlog = true;  // the client reads slowly: the rest is read again later
                break;
            }
            after = l.seq;
            stream->push(std::move(chunk));
        }
        if (!backlog && r->lines.size() == log_page) {
            return poll();  // more waiting: no pause
        }
        if (!backlog && (!r->task || attempt_over(*r->task))) {
            stream->push(sse_chunk(
                "end", {{"state", r->task ? nlohmann::json(scheduler::to_string(r->task->state))
                                          : nlohmann::json(nullptr)}}));
            stream->close();
            return;
        }
        timer.expires_after(owner->options.log_poll_interval);
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                self->poll();
            }
        });
    }
};

struct task_lookup {
    std::optional<scheduler::run_record> run;
    std::optional<scheduler::task_instance_record> task;
    std::vector<scheduler::stored_log_line> lines;  // text mode only
    bool truncated = false;  // text mode: more lines than max_text_log_lines/bytes
};

// One page of the stored events as asked by `GET /api/v1/events` with Accept: application/json
// (docs/api.md#logs-and-events-server-sent-events): oldest first after `after`, or newest first
// before `before` (the latest when absent), as the admin page's events view reads them.
struct event_page_request {
    bool newest_first = false;
    std::int64_t after = 0;
    std::optional<std::int64_t> before;
    std::size_t limit = 100;
};

core::result<event_page_request> parse_event_page(const std::map<std::string, std::string>& q) {
    event_page_request page;
    const auto param = [&](const char* name) -> const std::string* {
        auto it = q.find(name);
        return it == q.end() || it->second.empty() ? nullptr : &it->second;
    };
    if (const std::string* order = param("order")) {
        if (*order != "oldest_first" && *order != "newest_first") {
            return core::error::permanent("order must be oldest_first or newest_first");
        }
        page.newest_first = *order == "newest_first";
    }
    if (const std::string* before = param("before")) {
        page.before = parse_id(*before);
        if (!page.before) {
            return core::error::permanent("before must be an event id");
        }
        if (auto it = q.find("order"); it != q.end() && it->second == "oldest_first") {
            return core::error::permanent("before pages newest first: drop order=oldest_first");
        }
        page.newest_first = true;
    }
    if (const std::string* after = param("after")) {
        auto a = parse_id(*after);
        if (!a && *after != "0") {
            return core::error::permanent("after must be an event id");
        }
        if (page.newest_first) {
            return core::error::permanent(
                "after pages oldest first; newest first pages with before");
        }
        page.after = a.value_or(0);
    }
    if (auto it = q.find("limit"); it != q.end()) {
        auto l = parse_id(it->second);
        if (!l || *l > static_cast<std::int64_t>(max_event_page)) {
            return core::error::permanent("limit must be 1-" + std::to_string(max_event_page));
        }
        page.limit = static_cast<std::size_t>(*l);
    }
    return page;
}

nlohmann::json event_page_json(const event_page_request& page,
                               const std::vector<scheduler::event_record>& events) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : events) {
        auto payload = nlohmann::json::parse(e.payload_json, nullptr, false);
        out.push_back({{"id", e.id},
                       {"at", time_json(e.at)},
                       {"kind", e.kind},
                       {"job", e.job ? nlohmann::json(*e.job) : nlohmann::json(nullptr)},
                       {"run", e.run ? nlohmann::json(e.run->value) : nlohmann::json(nullptr)},
                       {"task", e.task ? nlohmann::json(*e.task) : nlohmann::json(nullptr)},
                       {"actor", e.actor},
                       {"payload", payload.is_discarded() ? nlohmann::json::object() : payload}});
    }
    if (page.newest_first) {
        // A short page reached the oldest stored event: nothing is left to page back to.
        return {{"events", out},
                {"next_before", events.size() < page.limit ? nlohmann::json(nullptr)
                                                           : nlohmann::json(events.back().id)}};
    }
    // Oldest first never ends: later events may come, so the cursor stays while one was read.
    return {{"events", out},
            {"next_after",
             events.empty() ? nlohmann::json(nullptr) : nlohmann::json(events.back().id)}};
}

}  // namespace

// Every event kind there is (docs/api.md#requests): what the engine writes
// (scheduler/engine_*.cpp), task progress (live only) and the API's own audit records. A filter
// naming anything else is a typo, answered with this list rather than an empty page.
constexpr std::array<std::string_view, 13> event_kinds{
    "run.state",      "task.state",      "task.progress", "run.cancel", "run.timeout",
    "run.retry",      "run.skipped",     "task.mark",     "job.paused", "job.unpaused",
    "backfill.state", "config.reloaded", "audit"};

void api::impl::add_stream_routes() {
    routes.add(
        "GET", "/api/v1/runs/{id}/tasks/{task}/logs", access::viewer,
        [this](request_context& ctx, responder done) {
            auto id = parse_id(ctx.params.at("id"));
            if (!id) {
                return done(error_response(400, "bad_request", "a run id is a positive integer"));
            }
            const auto& q = ctx.request.query;
            if (auto f = q.find("format"); f != q.end() && f->second != "text") {
                if (f->second != "json") {
                    return done(
                        error_response(400, "bad_request", "format must be one of text, json"));
                }
                return serve_log_json(*this, ctx, std::move(done));
            }
            if (q.contains("follow") && q.at("follow") != "0" && q.at("follow") != "1") {
                return done(error_response(400, "bad_request", "follow must be one of 0, 1"));
            }
            const bool follow = q.contains("follow") && q.at("follow") == "1";
            const std::string task_name = ctx.params.at("task");
            // ?try=N: only that try's lines (text only; a follower gets every try, each line
            // names its own).
            std::optional<std::int64_t> only_try;
            if (q.contains("try")) {
                only_try = parse_id(q.at("try"));
                if (!only_try || follow) {
                    return done(error_response(
                        400, "bad_request",
                        follow ? "try= cannot be combined with follow=1"
                               : "try is a positive integer (the attempt's try number)"));
                }
            }
            blocking(
                [self = shared_from_this(), run = core::run_id{*id}, task_name, follow,
                 only_try]() -> core::result<task_lookup> {
                    task_lookup out;
                    auto r = self->deps.store->get_run(run);
                    if (!r) {
                        return r.error();
                    }
                    out.run = *r;
                    if (!out.run) {
                        return out;
                    }
                    auto tasks = self->deps.store->list_task_instances(run);
                    if (!tasks) {
                        return tasks.error();
                    }
                    for (const auto& t : *tasks) {
                        if (t.task == task_name) {
                            out.task = t;
                        }
                    }
                    if (!out.task || follow) {
                        return out;
                    }
                    std::int64_t after = 0;
                    std::size_t bytes = 0;
                    while (out.lines.size() < max_text_log_lines && !out.truncated) {
                        auto page = self->deps.store->read_task_log(out.task->id, after, log_page);
                        if (!page) {
                            return page.error();
                        }
                        if (page->empty()) {
                            break;
                        }
                        after = page->back().seq;
                        for (auto& l : *page) {
                            if (only_try && l.try_number != *only_try) {
                                continue;
                            }
                            bytes += l.line.text.size() + 1;
                            if (bytes > max_text_log_bytes ||
                                out.lines.size() >= max_text_log_lines) {
                                out.truncated = true;
                                break;
                            }
                            out.lines.push_back(std::move(l));
                        }
                    }
                    return out;
                },
                [self = shared_from_this(), id = *id, task_name, follow,
                 done = std::move(done)](core::result<task_lookup> r) {
                    if (!r) {
                        return done(store_error(r.error()));
                    }
                    if (!r->run) {
                        return done(error_response(404, "run_not_found",
                                                   "no run with id " + std::to_string(id)));
                    }
                    if (!r->task) {
                        return done(error_response(
                            404, "task_not_found",
                            "run " + std::to_string(id) + " has no task " + task_name));
                    }
                    if (!follow) {
                        http_response res;
                        res.content_type = "text/plain; charset=utf-8";
                        for (const auto& l : r->lines) {
                            res.body += l.line.text;
                            res.body += '\n';
                        }
                        if (r->truncated) {
                            res.body += "[sluice: the log is longer than " +
                                        std::to_string(max_text_log_lines) + " lines or " +
                                        std::to_string(max_text_log_bytes / (1024 * 1024)) +
                                        " MiB; the rest is not shown (follow it with "
                                        "?follow=1, or ask for one try with ?try=N)]\n";
                        }
                        return done(std::move(res));
                    }
                    auto stream = self->open_stream();
                    if (!stream) {
                        return done(error_response(429, "too_many_streams",
                                                   "too many event streams are open; retry later"));
                    }
                    auto follower = std::make_shared<log_follower>(self, stream, r->task->id);
                    stream->set_on_detach([follower] { follower->timer.cancel(); });
                    http_response res;
                    res.content_type = "text/event-stream";
                    res.stream = stream;
                    done(std::move(res));
                    follower->poll();
                });
        });

    routes.add(
        "GET", "/api/v1/events", access::viewer, [this](request_context& ctx, responder done) {
            const auto& q = ctx.request.query;
            std::optional<std::string> kind;
            if (auto it = q.find("kind"); it != q.end() && !it->second.empty()) {
                if (std::find(event_kinds.begin(), event_kinds.end(), it->second) ==
                    event_kinds.end()) {
                    std::string valid;
                    for (const std::string_view k : event_kinds) {
                        valid += (valid.empty() ? "" : ", ") + std::string(k);
                    }
                    return done(error_response(400, "bad_request", "kind must be one of " + valid));
                }
                kind = it->second;
            }
            const std::string* accept = ctx.request.header("accept");
            const bool json = accept != nullptr &&
                              accept->find("application/json") != std::string::npos &&
                              accept->find("text/event-stream") == std::string::npos;
            if (!json) {
                std::optional<std::int64_t> run;
                if (auto it = q.find("run"); it != q.end() && !it->second.empty()) {
                    run = parse_id(it->second);
                    if (!run) {
                        return done(error_response(400, "bad_request", "run must be a run id"));
                    }
                }
                // A reconnecting client names the last event it got: the stored events after
                // it are replayed before the stream goes live.
                std::optional<std::int64_t> last_event_id;
                if (const std::string* h = ctx.request.header("last-event-id");
                    h != nullptr && !h->empty()) {
                    last_event_id = parse_id(*h);
                    if (!last_event_id && *h != "0") {
                        return done(error_response(
                            400, "bad_request",
                            "Last-Event-ID must be the id of an event this stream sent"));
                    }
                    last_event_id = last_event_id.value_or(0);
                }
                if (!open_stream()) {
                    return done(error_response(429, "too_many_streams",
                                               "too many event streams are open; retry later"));
                }
                streams.pop_back();  // open_stream only checked the bound; the hub makes the stream
                event_filter filter{kind, run};
                // Live at once when the hub knows where it stands and nothing is to replay.
                const bool live = !last_event_id && tail.cursor.has_value();
                auto stream = hub.subscribe(deps.config.server.sse_queue_limit, filter,
                                            tail.cursor.value_or(0), live);
                streams.push_back(stream);
                http_response res;
                res.content_type = "text/event-stream";
                res.stream = stream;
                done(std::move(res));
                if (!live) {
                    start_event_stream(stream, std::move(filter), last_event_id);
                }
                return;
            }
            auto page = parse_event_page(q);
            if (!page) {
                return done(error_response(400, "bad_request", page.error().message));
            }
            blocking(
                [self = shared_from_this(), page = *page, kind] {
                    const auto k = kind ? std::optional<std::string_view>(*kind) : std::nullopt;
                    return page.newest_first
                               ? self->deps.store->read_events_before(page.before, k, page.limit)
                               : self->deps.store->read_events(page.after, k, page.limit);
                },
                [done = std::move(done),
                 page = *page](core::result<std::vector<scheduler::event_record>> r) {
                    if (!r) {
                        return done(store_error(r.error()));
                    }
                    done(json_response(200, event_page_json(page, *r)));
                });
        });
}

}  // namespace sluice::web
