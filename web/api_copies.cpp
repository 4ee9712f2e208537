// GET /api/v1/copies: every copy task of the served configuration with its latest attempt's
// figures (the task instance's metrics: a copy's last progress report), the throughput of its
// recent runs and the high-water mark stored for it, for the admin page's copies view
// (docs/api.md#copies). Live figures come from task.progress events on the event stream.

#include "web/api_copies.hpp"

#include "core/time.hpp"
#include "scheduler/task_history_reader.hpp"

namespace sluice::web {

namespace {

// Recent runs listed per task: 20 by default (the page's sparkline), at most 100.
constexpr std::int64_t default_recent = 20;
constexpr std::int64_t max_recent = 100;
// The store key under which a copy mirrors its sink's mark (docs/etl.md#exactly-once).
constexpr std::string_view mark_key = "mark";

struct copy_task {
    const config::job_spec* job;
    const config::task_spec* task;
    const config::copy_spec* copy;
};

// Where a copy reads and writes, named as in a backfill's dry run: connection and table (a
// query or a path is only named, never shown, as it may carry interpolated secrets).
std::string source_text(const config::copy_source_spec& s) {
    return s.connection + ": " + (s.table ? "table " + *s.table : s.query ? "query" : "path");
}

std::string sink_text(const config::copy_sink_spec& s) {
    return s.connection + ": " + (s.table ? "table " + *s.table : "path") + " (" +
           std::string(config::to_string(s.mode)) + ")";
}

nlohmann::json metrics_of(const scheduler::task_instance_record& t) {
    auto m = nlohmann::json::parse(t.metrics_json, nullptr, false);
    return m.is_object() ? m : nlohmann::json::object();
}

nlohmann::json copy_json(const copy_task& c, const scheduler::task_history& h) {
    nlohmann::json latest = nullptr;
    if (!h.recent.empty()) {
        const auto& t = h.recent.front();
        latest = task_json(t);
        latest.erase("attempts");  // the run's detail lists them
        latest["run"] = t.run.value;
    }
    nlohmann::json recent = nlohmann::json::array();
    for (const auto& t : h.recent) {
        const nlohmann::json m = metrics_of(t);
        recent.push_back(
            {{"run", t.run.value},
             {"state", scheduler::to_string(t.state)},
             {"started_at", time_json(t.started_at)},
             {"finished_at", time_json(t.finished_at)},
             {"rows_written", m.value("rows_written", nlohmann::json(nullptr))},
             {"rows_per_second", m.value("rows_per_second", nlohmann::json(nullptr))}});
    }
    nlohmann::json checkpoint = nullptr;
    if (h.checkpoint_json) {
        auto value = nlohmann::json::parse(*h.checkpoint_json, nullptr, false);
        checkpoint = {{"value", value.is_discarded() ? nlohmann::json(*h.checkpoint_json) : value},
                      {"updated_at", time_json(h.checkpoint_updated_at)}};
    }
    return {{"job", c.job->name},
            {"task", c.task->name},
            {"source", source_text(c.copy->source)},
            {"sink", sink_text(c.copy->sink)},
            {"cursor", c.copy->source.cursor},
            {"batch_rows", c.copy->batch_rows},
            {"checkpoint", std::move(checkpoint)},
            {"latest", std::move(latest)},
            {"recent", std::move(recent)}};
}

}  // namespace

void add_copy_routes(api::impl& api) {
    api.routes.add(
        "GET", "/api/v1/copies", access::viewer,
        [impl = &api](request_context& ctx, responder done) {
            const auto& q = ctx.request.query;
            for (const auto& [name, value] : q) {
                if (name != "job" && name != "recent") {
                    return done(error_response(400, "bad_request",
                                               "unknown parameter '" + name +
                                                   "': GET /api/v1/copies takes job= and recent="));
                }
            }
            std::int64_t recent = default_recent;
            if (auto it = q.find("recent"); it != q.end()) {
                auto n = parse_id(it->second);
                if (!n || *n > max_recent) {
                    return done(error_response(400, "bad_request", "recent must be 1-100"));
                }
                recent = *n;
            }
            const config::sluice_config& config = impl->jobs_config();
            std::optional<std::string> only;
            if (auto it = q.find("job"); it != q.end()) {
                if (config.find_job(it->second) == nullptr) {
                    return done(error_response(404, "job_not_found",
                                               config.unknown_job_message(it->second)));
                }
                only = it->second;
            }
            std::vector<copy_task> copies;
            std::vector<scheduler::task_ref> refs;
            for (const auto& job : config.jobs) {
                if (only && job.name != *only) {
                    continue;
                }
                for (const auto& task : job.tasks) {
                    if (const auto* copy = std::get_if<config::copy_spec>(&task.kind)) {
                        copies.push_back({&job, &task, copy});
                        refs.push_back({job.name, task.name});
                    }
                }
            }
            // A capability of the SQL stores beside run_store (scheduler/task_history_reader.hpp).
            auto* histories = dynamic_cast<scheduler::task_history_reader*>(impl->deps.store);
            if (histories == nullptr) {
                return done(error_response(501, "not_supported",
                                           "this store cannot list the copies' histories"));
            }
            impl->blocking(
                [histories, refs = std::move(refs), recent] {
                    return histories->read_task_histories(refs, mark_key,
                                                          static_cast<std::size_t>(recent));
                },
                // The spec pointers stay valid while the configuration they belong to is kept.
                [copies = std::move(copies), keep = impl->jobs_keep_alive(),
                 done = std::move(done)](
                    core::result<std::vector<scheduler::task_history>> histories) {
                    if (!histories) {
                        return done(store_error(histories.error()));
                    }
                    nlohmann::json list = nlohmann::json::array();
                    for (std::size_t i = 0; i < copies.size() && i < histories->size(); ++i) {
                        list.push_back(copy_json(copies[i], (*histories)[i]));
                    }
                    done(json_response(200, {{"copies", std::move(list)}}));
                });
        });
}

}  // namespace sluice::web
