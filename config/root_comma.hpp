#pragma once

#include <optional>
#include <string>

#include "config/document.hpp"

namespace sluice::config {

// yaml-cpp 0.7 never returns (allocating without bound) on a ',' at the root level of a
// document ("," or "- [a]\n,"), found by the fuzzer. In valid YAML a ',' cannot start a value
// there: it is an error, found before yaml-cpp sees the text. Tracks just enough (quotes, flow
// depth, block scalars, comments) never to flag a ',' that YAML allows. Internal.
std::optional<position> find_root_comma(const std::string& s, int file_index);

}  // namespace sluice::config
