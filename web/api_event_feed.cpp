// The event stream's reading of the store (docs/api.md#logs-and-events-server-sent-events).
//
// Stored events reach `GET /api/v1/events` streams from the store, not from the engine's
// notification: when something committed events (the engine's observer, an audit append), the
// API reads the events table after the newest id it delivered and hands each row to the hub, so
// every streamed event's `id:` is its store id and a reconnect can resume after it. Events
// become visible in id order (store/sql_transitions.hpp, events_order_lock_sql), so reading
// `id > cursor` never skips one that commits later. Reads happen only while someone listens;
// with no subscriber the position is forgotten and learnt again (last_event_id) by the next one.

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "web/api_impl.hpp"

namespace sluice::web {

namespace {

// The most stored events a reconnect replays: beyond, the stream starts with a `reset` event
// (the client reads its views again) rather than pushing an unbounded backlog.
constexpr std::int64_t max_replay_events = 10000;
// Rows one read of the events table returns, for the tail and for a replay.
constexpr std::size_t event_page = 1000;

std::string reset_chunk(std::int64_t id, std::string_view reason) {
    const nlohmann::json data{{"kind", "reset"}, {"id", id}, {"reason", reason}};
    return "id: " + std::to_string(id) + "\nevent: reset\ndata: " + data.dump() + "\n\n";
}

struct tail_read {
    std::optional<std::int64_t> last;  // the store's newest id, when the cursor was unknown
    std::vector<scheduler::event_record> events;
};

}  // namespace

// One stream that is not live yet: it learns where the hub stands, replays the stored events
// after the client's Last-Event-ID (matching its filter, paced by the client like a log
// follower), then joins the hub once it has passed the hub's position.
struct event_replay : std::enable_shared_from_this<event_replay> {
    std::shared_ptr<api::impl> owner;
    std::shared_ptr<sse_stream> stream;
    event_filter filter;
    std::optional<std::int64_t> last_event_id;  // as the client sent it, until checked
    bool fresh = false;                         // no Last-Event-ID: start at the hub's position
    std::int64_t floor = 0;                     // the newest id this stream has passed
    boost::asio::steady_timer timer;

    event_replay(std::shared_ptr<api::impl> a, std::shared_ptr<sse_stream> s, event_filter f)
        : owner(std::move(a)),
          stream(std::move(s)),
          filter(std::move(f)),
          timer(owner->deps.loop) {}

    bool gone() const { return stream->detached() || stream->closed(); }

    void step() {
        if (gone()) {
            return;
        }
        if (!owner->tail.cursor) {
            owner->tail.waiting.push_back([self = shared_from_this()] { self->step(); });
            owner->event_committed();  // a read that learns the position
            return;
        }
        const std::int64_t cursor = *owner->tail.cursor;
        if (fresh) {
            fresh = false;
            floor = cursor;
        }
        if (last_event_id) {
            const std::int64_t last = *std::exchange(last_event_id, std::nullopt);
            if (last > cursor) {
                stream->push(reset_chunk(
                    cursor, "Last-Event-ID is newer than every stored event (another store?)"));
                floor = cursor;
            } else if (cursor - last > max_replay_events) {
                stream->push(reset_chunk(cursor, "more than " + std::to_string(max_replay_events) +
                                                     " events since Last-Event-ID"));
                floor = cursor;
            } else {
                floor = last;
            }
        }
        if (floor >= cursor) {
            owner->hub.go_live(*stream, floor);
            return;
        }
        owner->blocking(
            [api = owner, after = floor] {
                return api->deps.store->read_events(after, std::nullopt, event_page);
            },
            [self = shared_from_this()](core::result<std::vector<scheduler::event_record>> r) {
                self->on_page(std::move(r));
            });
    }

    void on_page(core::result<std::vector<scheduler::event_record>> r) {
        if (gone()) {
            return;
        }
        if (!r) {
            const nlohmann::json data{{"message", r.error().message}};
            stream->push("event: error\ndata: " + data.dump() + "\n\n");
            stream->close();
            return;
        }
        if (r->empty()) {
            // Retention removed what lay between: nothing is left to replay.
            floor = std::max(floor, owner->tail.cursor.value_or(floor));
        }
        for (const auto& e : *r) {
            if (filter.matches(e.kind, e.run)) {
                std::string chunk = event_chunk(e);
                if (!stream->has_room(chunk.size())) {
                    // The client reads slowly: continue from `floor` once it has caught up.
                    timer.expires_after(owner->options.log_poll_interval);
                    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
                        if (!ec) {
                            self->step();
                        }
                    });
                    return;
                }
                stream->push(std::move(chunk));
            }
            floor = e.id;
        }
        step();
    }
};

void api::impl::start_event_stream(const std::shared_ptr<sse_stream>& stream, event_filter filter,
                                   std::optional<std::int64_t> last_event_id) {
    auto replay = std::make_shared<event_replay>(shared_from_this(), stream, std::move(filter));
    replay->last_event_id = last_event_id;
    replay->fresh = !last_event_id;
    stream->set_on_detach([replay] { replay->timer.cancel(); });
    replay->step();
}

void api::impl::event_committed() {
    if (!tail.reading && hub.subscribers() == 0) {
        tail.cursor.reset();  // nobody listens: no reads, so the position goes stale
        return;
    }
    tail.again = true;
    if (!tail.reading) {
        read_tail();
    }
}

void api::impl::read_tail() {
    tail.reading = true;
    tail.again = false;
    blocking(
        [self = shared_from_this(), after = tail.cursor]() -> core::result<tail_read> {
            tail_read out;
            if (!after) {
                auto last = self->deps.store->last_event_id();
                if (!last) {
                    return last.error();
                }
                out.last = *last;
                return out;
            }
            auto page = self->deps.store->read_events(*after, std::nullopt, event_page);
            if (!page) {
                return page.error();
            }
            out.events = std::move(*page);
            return out;
        },
        [self = shared_from_this()](core::result<tail_read> r) {
            auto& tail = self->tail;
            tail.reading = false;
            if (!r) {
                // Retried at the next commit or keepalive; waiting replays wait until then.
                self->log->warn("event stream: could not read new events: {}", r.error().message);
                return;
            }
            if (r->last) {
                tail.cursor = *r->last;
            }
            for (const auto& e : r->events) {
                self->hub.deliver(e);
                tail.cursor = e.id;
            }
            for (auto& waiting : std::exchange(tail.waiting, {})) {
                waiting();
            }
            if (tail.again || r->events.size() == event_page) {
                self->read_tail();
            }
        });
}

}  // namespace sluice::web
