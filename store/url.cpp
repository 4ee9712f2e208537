#include "store/url.hpp"

namespace sluice::store {

std::string redact_url(std::string_view url) {
    std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return std::string(url);
    }
    std::size_t authority = scheme_end + 3;
    // Users paste passwords with unescaped '/', '@' or '#'; err on the side of hiding too much:
    // the userinfo ends at the last '@' before the query.
    std::size_t query = url.find('?', authority);
    std::string_view before_query = url.substr(0, query);
    std::size_t at = before_query.rfind('@');
    if (at == std::string_view::npos || at < authority) {
        return std::string(url);
    }
    std::size_t colon = url.find(':', authority);
    if (colon == std::string_view::npos || colon > at) {
        return std::string(url);
    }
    std::string out(url.substr(0, colon + 1));
    out += "***";
    out += url.substr(at);
    return out;
}

}  // namespace sluice::store
