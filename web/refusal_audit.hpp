#pragma once

// Refused API calls (401, 403 and other 4xx answers to POST, PUT and DELETE) are audited like
// every mutating call, but anyone who can reach the port can make them: one record per call
// would let an anonymous client fill the disk and the journal. So the first refusal of a
// (client, actor, method, path) in a minute is recorded at once and the repeats of that minute are
// counted and recorded as one summary when the minute is over (docs/api.md#authentication).
// Loop thread only; time is passed in, so the rule is tested without a clock.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace sluice::web {

class refusal_audit {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds window{60};
    // Keys kept at once; refusals of clients beyond it are counted under one key ("*").
    static constexpr std::size_t max_keys = 4096;
    // Paths longer than this are recorded cut (with "...").
    static constexpr std::size_t max_path_bytes = 200;

    struct summary {
        std::string client;
        std::string method;
        std::string path;
        int status = 0;           // of the last repeat
        std::string actor;        // of the last repeat
        std::size_t repeats = 0;  // refusals after the first one of the minute
    };

    // The path as it is recorded: cut to max_path_bytes.
    static std::string cut_path(const std::string& path);

    // True when this refusal is to be recorded now (the first of its key in the window); false
    // when it was counted for the summary instead.
    bool admit(const std::string& client, const std::string& method, const std::string& path,
               int status, const std::string& actor, clock::time_point now);

    // The summaries of windows that are over at `now` (with at least one repeat); their keys
    // are forgotten.
    std::vector<summary> take_finished(clock::time_point now);

private:
    using key = std::tuple<std::string, std::string, std::string>;  // client, method, path
    struct window_state {
        clock::time_point started;
        summary counted;
    };
    std::map<key, window_state> windows_;
};

}  // namespace sluice::web
