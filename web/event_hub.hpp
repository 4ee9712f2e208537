#pragma once

// Fan-out of events to `GET /api/v1/events` subscribers. Loop thread only. Each subscriber has
// its own bounded sse_stream; delivering never waits for a client (a client that falls behind is
// dropped by its stream and comes back with Last-Event-ID).
//
// Stored events go out with their store id as the SSE `id:`; the hub delivers each to a
// subscriber at most once, in id order, by keeping per subscriber the newest id it has passed
// (its floor). A subscriber that is still replaying what it missed (api_event_feed.cpp) gets
// nothing from the hub until it goes live.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/run_store.hpp"
#include "web/http_message.hpp"

namespace sluice::web {

// {"kind":..,"at":..,"job":..,"run":..,"task":..,"actor":..,"payload":{...}}: an event that is
// not stored (task.progress).
std::string event_json(const scheduler::new_event& e);
// The same with the store id first: {"id":..,"kind":..,...}.
std::string event_json(const scheduler::event_record& e);
// "id: N\nevent: KIND\ndata: {...}\n\n"
std::string event_chunk(const scheduler::event_record& e);

// What a stream asked for: one kind (every kind when nullopt), one run (every run when nullopt).
struct event_filter {
    std::optional<std::string> kind;
    std::optional<std::int64_t> run;
    bool matches(std::string_view kind, const std::optional<core::run_id>& run) const;
};

class event_hub {
public:
    // A new stream. A live one receives every stored event delivered with an id above `floor`; a
    // replaying one receives nothing until go_live().
    std::shared_ptr<sse_stream> subscribe(std::size_t queue_limit, event_filter filter,
                                          std::int64_t floor, bool live);
    // The replay of `stream` reached `floor` and the hub's own position: from now on it receives
    // delivered events with an id above `floor`.
    void go_live(const sse_stream& stream, std::int64_t floor);
    // A stored event, in id order: to every live subscriber whose filter matches and whose
    // floor is below its id.
    void deliver(const scheduler::event_record& e);
    // An event that is not stored (task.progress): to every live subscriber whose filter
    // matches, without an id (a reconnect cannot replay it).
    void deliver_unstored(const scheduler::new_event& e);
    // Subscribers whose stream is still open (replaying ones included).
    std::size_t subscribers();

private:
    struct subscriber {
        std::weak_ptr<sse_stream> stream;
        event_filter filter;
        std::int64_t floor = 0;  // the newest event id this subscriber has passed
        bool live = false;
    };
    void forget_closed();
    std::vector<subscriber> subscribers_;
};

}  // namespace sluice::web
