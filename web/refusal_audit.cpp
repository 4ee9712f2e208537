#include "web/refusal_audit.hpp"

namespace sluice::web {

std::string refusal_audit::cut_path(const std::string& path) {
    return path.size() <= max_path_bytes ? path : path.substr(0, max_path_bytes) + "...";
}

bool refusal_audit::admit(const std::string& client, const std::string& method,
                          const std::string& path, int status, const std::string& actor,
                          clock::time_point now) {
    // Per actor too: a refused token is worth its own record beside anonymous noise.
    key k{client + " " + actor, method, cut_path(path)};
    auto it = windows_.find(k);
    if (it != windows_.end() && now - it->second.started >= window) {
        // Its window is over but not yet summarized: count the repeats in a fresh one only
        // after take_finished; until then this refusal opens nothing new.
        if (it->second.counted.repeats == 0) {
            windows_.erase(it);
            it = windows_.end();
        }
    }
    if (it == windows_.end()) {
        if (windows_.size() >= max_keys) {
            k = key{"*", "*", "*"};
            it = windows_.find(k);
            if (it == windows_.end()) {
                it = windows_.emplace(k, window_state{now, summary{"*", "*", "*", 0, "", 0}}).first;
                it->second.counted.status = status;
                it->second.counted.actor = actor;
                return true;
            }
        } else {
            windows_.emplace(
                k, window_state{now, summary{client, method, std::get<2>(k), status, actor, 0}});
            return true;
        }
    }
    ++it->second.counted.repeats;
    it->second.counted.status = status;
    it->second.counted.actor = actor;
    return false;
}

std::vector<refusal_audit::summary> refusal_audit::take_finished(clock::time_point now) {
    std::vector<summary> out;
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (now - it->second.started >= window) {
            if (it->second.counted.repeats > 0) {
                out.push_back(std::move(it->second.counted));
            }
            it = windows_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

}  // namespace sluice::web
