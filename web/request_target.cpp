#include "web/request_target.hpp"

namespace sluice::web {

bool parse_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query) {
    if (target.empty() || target.front() != '/') {
        return false;
    }
    auto decode = [](std::string_view in, bool plus_is_space, std::string& out) {
        out.clear();
        for (std::size_t i = 0; i < in.size(); ++i) {
            const char c = in[i];
            if (c == '%') {
                auto hex = [](char h) -> int {
                    if (h >= '0' && h <= '9') {
                        return h - '0';
                    }
                    if (h >= 'a' && h <= 'f') {
                        return h - 'a' + 10;
                    }
                    if (h >= 'A' && h <= 'F') {
                        return h - 'A' + 10;
                    }
                    return -1;
                };
                if (i + 2 >= in.size()) {
                    return false;
                }
                const int hi = hex(in[i + 1]);
                const int lo = hex(in[i + 2]);
                if (hi < 0 || lo < 0) {
                    return false;
                }
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
            } else if (c == '+' && plus_is_space) {
                out += ' ';
            } else {
                out += c;
            }
        }
        return true;
    };
    const auto q = target.find('?');
    if (!decode(target.substr(0, q), false, path)) {
        return false;
    }
    query.clear();
    if (q == std::string_view::npos) {
        return true;
    }
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        std::string key;
        std::string value;
        if (!decode(pair.substr(0, eq), true, key) ||
            !decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true,
                    value)) {
            return false;
        }
        query[key] = value;
    }
    return true;
}

}  // namespace sluice::web
