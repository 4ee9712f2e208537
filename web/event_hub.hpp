#pragma once

// Fan-out of engine events and audit records to `GET /api/v1/events` subscribers. Loop thread
// only. Each subscriber has its own bounded sse_stream; publishing never waits for a client
// (a client that falls behind is dropped by its stream).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/run_store.hpp"
#include "web/http_message.hpp"

namespace sluice::web {

// {"kind":..,"at":..,"job":..,"run":..,"task":..,"actor":..,"payload":{...}}
std::string event_json(const scheduler::new_event& e);

class event_hub {
public:
    // A new stream receiving events of `kind` (every kind when nullopt) and, with `run`, only
    // those of that run.
    std::shared_ptr<sse_stream> subscribe(std::size_t queue_limit, std::optional<std::string> kind,
                                          std::optional<std::int64_t> run);
    void publish(const scheduler::new_event& e);
    std::size_t subscribers() const { return subscribers_.size(); }

private:
    struct subscriber {
        std::weak_ptr<sse_stream> stream;
        std::optional<std::string> kind;
        std::optional<std::int64_t> run;
    };
    std::vector<subscriber> subscribers_;
    std::uint64_t sequence_ = 0;  // the SSE `id:` of each published event
};

}  // namespace sluice::web
