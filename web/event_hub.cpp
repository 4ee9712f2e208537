#include "web/event_hub.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/time.hpp"

namespace sluice::web {

namespace {

nlohmann::json event_object(std::string_view kind, core::time_point at,
                            const std::optional<std::string>& job,
                            const std::optional<core::run_id>& run,
                            const std::optional<std::string>& task, std::string_view actor,
                            std::string_view payload_json) {
    nlohmann::json j;
    j["kind"] = kind;
    j["at"] = core::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(at));
    j["job"] = job ? nlohmann::json(*job) : nlohmann::json(nullptr);
    j["run"] = run ? nlohmann::json(run->value) : nlohmann::json(nullptr);
    j["task"] = task ? nlohmann::json(*task) : nlohmann::json(nullptr);
    j["actor"] = actor;
    j["payload"] = nlohmann::json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
    if (j["payload"].is_discarded()) {
        j["payload"] = nlohmann::json::object();
    }
    return j;
}

std::string dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string event_json(const scheduler::new_event& e) {
    return dump(event_object(e.kind, e.at, e.job, e.run, e.task, e.actor, e.payload_json));
}

std::string event_json(const scheduler::event_record& e) {
    nlohmann::json j = event_object(e.kind, e.at, e.job, e.run, e.task, e.actor, e.payload_json);
    j["id"] = e.id;
    return dump(j);
}

std::string event_chunk(const scheduler::event_record& e) {
    return "id: " + std::to_string(e.id) + "\nevent: " + e.kind + "\ndata: " + event_json(e) +
           "\n\n";
}

bool event_filter::matches(std::string_view k, const std::optional<core::run_id>& r) const {
    return (!kind || *kind == k) && (!run || (r && r->value == *run));
}

std::shared_ptr<sse_stream> event_hub::subscribe(std::size_t queue_limit, event_filter filter,
                                                 std::int64_t floor, bool live) {
    forget_closed();
    auto stream = std::make_shared<sse_stream>(queue_limit);
    subscribers_.push_back(subscriber{stream, std::move(filter), floor, live});
    // A comment line first, so the client sees the stream is open before any event.
    stream->push(": subscribed\n\n");
    return stream;
}

void event_hub::go_live(const sse_stream& stream, std::int64_t floor) {
    for (subscriber& s : subscribers_) {
        if (auto held = s.stream.lock(); held.get() == &stream) {
            s.floor = std::max(s.floor, floor);
            s.live = true;
        }
    }
}

void event_hub::forget_closed() {
    std::erase_if(subscribers_, [](const subscriber& s) {
        auto stream = s.stream.lock();
        return !stream || stream->closed() || stream->detached();
    });
}

std::size_t event_hub::subscribers() {
    forget_closed();
    return subscribers_.size();
}

void event_hub::deliver(const scheduler::event_record& e) {
    forget_closed();
    std::optional<std::string> chunk;  // formatted once, for the first subscriber that wants it
    // Index, not iterators: a push can drop its own subscriber's stream, never the list.
    for (std::size_t i = 0; i < subscribers_.size(); ++i) {
        subscriber& s = subscribers_[i];
        if (!s.live || e.id <= s.floor) {
            continue;
        }
        s.floor = e.id;
        if (!s.filter.matches(e.kind, e.run)) {
            continue;
        }
        if (auto stream = s.stream.lock()) {
            if (!chunk) {
                chunk = event_chunk(e);
            }
            stream->push(*chunk);
        }
    }
}

void event_hub::deliver_unstored(const scheduler::new_event& e) {
    forget_closed();
    std::optional<std::string> chunk;
    for (const subscriber& s : subscribers_) {
        if (!s.live || !s.filter.matches(e.kind, e.run)) {
            continue;
        }
        if (auto stream = s.stream.lock()) {
            if (!chunk) {
                chunk = "event: " + e.kind + "\ndata: " + event_json(e) + "\n\n";
            }
            stream->push(*chunk);
        }
    }
}

}  // namespace sluice::web
