#pragma once

// Internal to web/: the API's state and the helpers its handler files share.

#include <functional>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "web/api.hpp"
#include "web/auth.hpp"
#include "web/event_hub.hpp"
#include "web/refusal_audit.hpp"
#include "web/service_metrics.hpp"

namespace spdlog {
class logger;
}

namespace sluice::web {

http_response json_response(int status, const nlohmann::json& body);
http_response error_response(int status, std::string_view code, std::string_view message);
// A store failure: 503 (the database is unreachable or refused; retry later).
http_response store_error(const core::error& e);
// The request body as a JSON object (an empty body is an empty object) whose members are all in
// `fields`; nullopt with `error` set to a 400 response when it is not JSON, not an object, nests
// deeper than core::max_json_depth (docs/api.md#requests) or has a member the call does not take
// (named in the message: the API is strict, docs/api.md#requests).
std::optional<nlohmann::json> body_object(const http_request& request, http_response& error,
                                          std::initializer_list<std::string_view> fields);
// The `params` member of a trigger or backfill body: a JSON object of scalars, passed on as text
// (absent: none). nullopt with `problem` set when it is not.
std::optional<std::map<std::string, std::string>> params_member(const nlohmann::json& body,
                                                                std::string& problem);
// An optional instant as RFC 3339 (UTC, seconds) or null.
nlohmann::json time_json(const std::optional<core::time_point>& t);
nlohmann::json run_json(const scheduler::run_record& r);
// A task with its attempts: `history` holds its superseded tries (attempt_record, oldest
// first); the task row itself is the newest try.
nlohmann::json task_json(const scheduler::task_instance_record& t,
                         std::span<const scheduler::attempt_record> history = {});
// A positive integer path or query parameter; nullopt when malformed.
std::optional<std::int64_t> parse_id(std::string_view text);

// The store threads. Work they never ran (queued when `stop()` came) holds the impl, which owns
// the pool: `discard_queued()`, after stop and join, destroys it so the two do not keep each
// other alive.
class store_pool : public boost::asio::thread_pool {
public:
    using boost::asio::thread_pool::thread_pool;
    void discard_queued() { shutdown(); }
};

struct api::impl : std::enable_shared_from_this<api::impl> {
    impl(api_dependencies d, api_options o);

    // Runs `work` (blocking) on the pool and `then(result)` back on the loop.
    template <class Work, class Then>
    void blocking(Work work, Then then) {
        boost::asio::post(pool, [self = shared_from_this(), work = std::move(work),
                                 then = std::move(then)]() mutable {
            auto result = work();
            boost::asio::post(self->deps.loop,
                              [result = std::move(result), then = std::move(then)]() mutable {
                                  then(std::move(result));
                              });
        });
    }

    void handle(http_request request, responder done);
    void audit(const request_context& ctx, int status);
    // Writes the summaries of refused calls whose minute is over (refusal_audit.hpp).
    void flush_refusals(std::chrono::steady_clock::time_point now);
    // Publishes an audit event and appends it to the store on the audit strand.
    void record_audit(scheduler::new_event e);
    // A new event stream, or nullopt when at max_streams.
    std::shared_ptr<sse_stream> open_stream();
    // api_event_feed.cpp: stored events may have been committed; read them for the streams.
    void event_committed();
    // Replays the stored events after `last_event_id` into a stream the hub holds (not live),
    // then makes it live; without an id it goes live at once.
    void start_event_stream(const std::shared_ptr<sse_stream>& stream, event_filter filter,
                            std::optional<std::int64_t> last_event_id);
    void read_tail();

    void add_probe_routes();  // api_probes.cpp: livez, healthz, readyz, metrics
    // api_probes.cpp: `then(problem)` once the store answered a read (nullopt) or failed.
    void check_store_once(std::function<void(std::optional<std::string>)> then);
    void add_job_routes();           // api_jobs.cpp
    void add_run_routes();           // api_runs.cpp
    void add_stream_routes();        // api_streams.cpp: task logs, events
    void add_variable_routes();      // api_variables.cpp
    void add_backfill_routes();      // api_backfills.cpp
    void add_session_routes();       // api_session.cpp: who the caller is (the admin page)
    void add_variable_list_route();  // api_variable_list.cpp: GET /api/v1/variables
    void trigger(scheduler::trigger_request request, responder done);

    api_dependencies deps;
    // The newest reloaded configuration; null until a reload (deps.config is then current).
    std::shared_ptr<const config::sluice_config> reloaded;
    // The configuration whose jobs are served. Handlers that keep a job_spec pointer across an
    // asynchronous call keep `jobs_keep_alive()` with it (a reload may replace the config).
    const config::sluice_config& jobs_config() const { return reloaded ? *reloaded : deps.config; }
    std::shared_ptr<const config::sluice_config> jobs_keep_alive() const { return reloaded; }
    api_options options;
    token_auth auth;
    router routes;
    event_hub hub;
    // Where the event streams stand in the store's events table (api_event_feed.cpp).
    struct event_tail {
        std::optional<std::int64_t> cursor;  // the newest id delivered; unknown while unheard
        bool reading = false;                // one read at a time, in id order
        bool again = false;                  // more was committed while reading
        std::vector<std::function<void()>> waiting;  // run after the next read completes
    } tail;
    service_metrics metrics;
    store_pool pool;
    std::shared_ptr<spdlog::logger> log;
    std::vector<std::weak_ptr<sse_stream>> streams;  // open event streams, for max_streams
    refusal_audit refusals;                          // repeats of refused calls, per minute
    bool started = false;                            // the scheduler finished starting
    // The one store check /readyz has running (api_probes.cpp): probes join it rather than
    // each holding one of the pool's threads for up to store.timeout while the store hangs.
    struct store_check {
        std::chrono::steady_clock::time_point started;
        std::vector<std::function<void(std::optional<std::string>)>> waiting;
    };
    std::shared_ptr<store_check> readiness_check;
    std::int64_t reloads = 0;                 // SIGHUP reloads finished
    std::optional<bool> last_reload_applied;  // nullopt until the first one
    std::unique_ptr<boost::asio::steady_timer> keepalive;
    void arm_keepalive();
    // Audit records are appended in the order the calls completed.
    boost::asio::strand<boost::asio::thread_pool::executor_type> audit_strand;
};

}  // namespace sluice::web
