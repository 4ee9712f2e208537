#pragma once

#include <map>
#include <string>
#include <string_view>

namespace sluice::web {

// Splits a request target into its percent-decoded path and query parameters; false when the
// target is not origin-form ("/...") or holds a malformed percent escape.
bool parse_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query);

}  // namespace sluice::web
