#include "web/event_hub.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/time.hpp"

namespace sluice::web {

std::string event_json(const scheduler::new_event& e) {
    nlohmann::json j;
    j["kind"] = e.kind;
    j["at"] = core::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(e.at));
    j["job"] = e.job ? nlohmann::json(*e.job) : nlohmann::json(nullptr);
    j["run"] = e.run ? nlohmann::json(e.run->value) : nlohmann::json(nullptr);
    j["task"] = e.task ? nlohmann::json(*e.task) : nlohmann::json(nullptr);
    j["actor"] = e.actor;
    j["payload"] = nlohmann::json::parse(e.payload_json, nullptr, /*allow_exceptions=*/false);
    if (j["payload"].is_discarded()) {
        j["payload"] = nlohmann::json::object();
    }
    return j.dump();
}

std::shared_ptr<sse_stream> event_hub::subscribe(std::size_t queue_limit,
                                                 std::optional<std::string> kind,
                                                 std::optional<std::int64_t> run) {
    auto stream = std::make_shared<sse_stream>(queue_limit);
    subscribers_.push_back(subscriber{stream, std::move(kind), run});
    // A comment line first, so the client sees the stream is open before any event.
    stream->push(": subscribed\n\n");
    return stream;
}

void event_hub::publish(const scheduler::new_event& e) {
    std::erase_if(subscribers_, [](const subscriber& s) {
        auto stream = s.stream.lock();
        return !stream || stream->closed() || stream->detached();
    });
    if (subscribers_.empty()) {
        return;
    }
    const std::uint64_t id = ++sequence_;
    const std::string chunk =
        "id: " + std::to_string(id) + "\nevent: " + e.kind + "\ndata: " + event_json(e) + "\n\n";
    // Copy the list: a push can drop a subscriber (overflow) while we iterate.
    const auto targets = subscribers_;
    for (const subscriber& s : targets) {
        if (s.kind && *s.kind != e.kind) {
            continue;
        }
        if (s.run && (!e.run || e.run->value != *s.run)) {
            continue;
        }
        if (auto stream = s.stream.lock()) {
            stream->push(chunk);
        }
    }
}

}  // namespace sluice::web
