// GET /api/v1/runs/{id}/tasks/{task}/logs?format=json: a window of a task's log by line number
// (?from=N&limit=M, or its last lines with ?tail=M) or a search in the whole log (?q=TEXT), so a
// client shows a 10 MiB log without reading it all
// (docs/api.md#logs-and-events-server-sent-events).

#include "web/api_log_windows.hpp"

#include <variant>

#include "scheduler/task_log_reader.hpp"

namespace sluice::web {

namespace {

// The most lines one window answers and the most hits one search answers: a page of a
// virtual list and a results list, not the log.
constexpr std::int64_t max_window_lines = 5000;
constexpr std::int64_t default_window_lines = 1000;
constexpr std::int64_t max_search_hits = 1000;
constexpr std::int64_t default_search_hits = 200;
// A search text is something typed into a box, not a document.
constexpr std::size_t max_search_bytes = 256;

struct window_request {
    std::int64_t from = 1;
    std::int64_t limit = default_window_lines;
    bool tail = false;  // the last `limit` lines; `from` is found once the total is known
};
struct search_request {
    std::string needle;
    std::int64_t limit = default_search_hits;
};
using log_request = std::variant<window_request, search_request>;

struct log_json_answer {
    bool run_found = false;
    bool task_found = false;
    scheduler::task_log_window window;
    std::vector<scheduler::task_log_hit> hits;
};

nlohmann::json line_json(std::int64_t number, const scheduler::stored_log_line& l) {
    return {{"n", number},
            {"seq", l.seq},
            {"try", l.try_number},
            {"stream", l.line.stream},
            {"at", time_json(l.line.at)},
            {"text", l.line.text}};
}

// A count parameter in 1..max, or the default when absent; nullopt when malformed.
std::optional<std::int64_t> count_param(const std::map<std::string, std::string>& q,
                                        const std::string& key, std::int64_t fallback,
                                        std::int64_t max) {
    auto it = q.find(key);
    if (it == q.end()) {
        return fallback;
    }
    auto n = parse_id(it->second);
    if (!n || *n > max) {
        return std::nullopt;
    }
    return n;
}

}  // namespace

void serve_log_json(api::impl& api, request_context& ctx, responder done) {
    auto id = parse_id(ctx.params.at("id"));
    if (!id) {
        return done(error_response(400, "bad_request", "a run id is a positive integer"));
    }
    const auto& q = ctx.request.query;
    if (q.contains("follow") || q.contains("try")) {
        return done(error_response(400, "bad_request",
                                   "format=json takes from=, tail=, limit= or q=; follow= and "
                                   "try= are for the text form"));
    }
    log_request request;
    if (auto it = q.find("q"); it != q.end()) {
        if (q.contains("from") || q.contains("tail")) {
            return done(
                error_response(400, "bad_request", "q= cannot be combined with from= or tail="));
        }
        if (it->second.empty() || it->second.size() > max_search_bytes) {
            return done(error_response(400, "bad_request", "q is 1-256 bytes of text"));
        }
        auto limit = count_param(q, "limit", default_search_hits, max_search_hits);
        if (!limit) {
            return done(error_response(400, "bad_request", "limit must be 1-1000 with q="));
        }
        request = search_request{it->second, *limit};
    } else {
        window_request w;
        if (q.contains("from") && q.contains("tail")) {
            return done(error_response(400, "bad_request", "from= cannot be combined with tail="));
        }
        if (q.contains("tail")) {
            auto tail = count_param(q, "tail", default_window_lines, max_window_lines);
            if (!tail || q.contains("limit")) {
                return done(error_response(400, "bad_request",
                                           "tail is a line count, 1-5000, and takes no limit="));
            }
            w.tail = true;
            w.limit = *tail;
        } else {
            auto from = count_param(q, "from", 1, std::numeric_limits<std::int64_t>::max());
            auto limit = count_param(q, "limit", default_window_lines, max_window_lines);
            if (!from || !limit) {
                return done(error_response(
                    400, "bad_request",
                    "from is a line number (from 1) and limit a line count, 1-5000"));
            }
            w.from = *from;
            w.limit = *limit;
        }
        request = w;
    }
    // A capability of the SQL stores beside run_store (scheduler/task_log_reader.hpp).
    auto* logs = dynamic_cast<scheduler::task_log_reader*>(api.deps.store);
    if (logs == nullptr) {
        return done(error_response(501, "not_supported",
                                   "this store cannot read a log by windows; use the text form"));
    }
    api.blocking(
        [self = api.shared_from_this(), logs, run = core::run_id{*id},
         task_name = ctx.params.at("task"), request]() -> core::result<log_json_answer> {
            log_json_answer out;
            auto r = self->deps.store->get_run(run);
            if (!r) {
                return r.error();
            }
            if (!*r) {
                return out;
            }
            out.run_found = true;
            auto tasks = self->deps.store->list_task_instances(run);
            if (!tasks) {
                return tasks.error();
            }
            std::optional<core::task_instance_id> task;
            for (const auto& t : *tasks) {
                if (t.task == task_name) {
                    task = t.id;
                }
            }
            if (!task) {
                return out;
            }
            out.task_found = true;
            auto& store = *logs;
            if (const auto* s = std::get_if<search_request>(&request)) {
                // One more than asked: whether the hits were cut.
                auto hits =
                    store.search_task_log(*task, s->needle, static_cast<std::size_t>(s->limit + 1));
                if (!hits) {
                    return hits.error();
                }
                out.hits = std::move(*hits);
                return out;
            }
            const auto& w = std::get<window_request>(request);
            std::int64_t from = w.from;
            if (w.tail) {
                // The total first, then the window ending at it; lines appended in between
                // are past the window, which a follower (?follow=1) delivers.
                auto counted = store.read_task_log_window(*task, 1, 1);
                if (!counted) {
                    return counted.error();
                }
                from = std::max<std::int64_t>(1, counted->total - w.limit + 1);
            }
            auto window =
                store.read_task_log_window(*task, from, static_cast<std::size_t>(w.limit));
            if (!window) {
                return window.error();
            }
            out.window = std::move(*window);
            return out;
        },
        [id = *id, task_name = ctx.params.at("task"), request,
         done = std::move(done)](core::result<log_json_answer> r) {
            if (!r) {
                return done(store_error(r.error()));
            }
            if (!r->run_found) {
                return done(
                    error_response(404, "run_not_found", "no run with id " + std::to_string(id)));
            }
            if (!r->task_found) {
                return done(
                    error_response(404, "task_not_found",
                                   "run " + std::to_string(id) + " has no task " + task_name));
            }
            nlohmann::json lines = nlohmann::json::array();
            if (const auto* s = std::get_if<search_request>(&request)) {
                const bool truncated = static_cast<std::int64_t>(r->hits.size()) > s->limit;
                if (truncated) {
                    r->hits.pop_back();
                }
                for (const auto& h : r->hits) {
                    lines.push_back(line_json(h.number, h.line));
                }
                return done(json_response(
                    200, {{"q", s->needle}, {"hits", std::move(lines)}, {"truncated", truncated}}));
            }
            std::int64_t n = r->window.first;
            for (const auto& l : r->window.lines) {
                lines.push_back(line_json(n++, l));
            }
            done(json_response(200, {{"total", r->window.total},
                                     {"from", r->window.first},
                                     {"lines", std::move(lines)}}));
        });
}

}  // namespace sluice::web
