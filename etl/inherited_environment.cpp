#include "etl/inherited_environment.hpp"

#include <algorithm>

extern char** environ;

namespace sluice::etl {

namespace {

// Where sh looks for programs when the daemon was started without PATH (`env -i`).
constexpr std::string_view default_path = "/usr/local/bin:/usr/bin:/bin";

}  // namespace

const std::vector<std::string_view>& base_environment_names() {
    static const std::vector<std::string_view> names{"PATH", "HOME",   "USER", "LOGNAME",
                                                     "LANG", "LC_ALL", "TZ",   "TMPDIR"};
    return names;
}

bool environment_name_matches(std::string_view pattern, std::string_view name) {
    if (!pattern.empty() && pattern.back() == '*') {
        pattern.remove_suffix(1);
        return name.substr(0, pattern.size()) == pattern;
    }
    return pattern == name;
}

std::map<std::string, std::string> inherited_environment(const std::vector<std::string>& inherit,
                                                         char** environment) {
    std::map<std::string, std::string> vars;
    const auto& base = base_environment_names();
    for (char** entry = environment != nullptr ? environment : environ;
         entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const auto eq = text.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            continue;
        }
        const std::string_view name = text.substr(0, eq);
        const bool wanted =
            std::find(base.begin(), base.end(), name) != base.end() ||
            std::any_of(inherit.begin(), inherit.end(), [&](const std::string& pattern) {
                return environment_name_matches(pattern, name);
            });
        if (wanted) {
            vars.emplace(std::string(name), std::string(text.substr(eq + 1)));
        }
    }
    vars.emplace("PATH", std::string(default_path));  // only when the daemon had none
    return vars;
}

std::vector<std::string> environment_entries(const std::map<std::string, std::string>& vars) {
    std::vector<std::string> out;
    out.reserve(vars.size());
    for (const auto& [key, value] : vars) {
        out.push_back(key + "=" + value);
    }
    return out;
}

}  // namespace sluice::etl
