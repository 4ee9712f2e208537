#pragma once

#include <cstddef>
#include <string_view>

// How deep JSON from outside may nest (docs/api.md#limits). nlohmann's parser does not recurse,
// but copying, comparing and dumping a value recurse once per level, so a body or a document of
// 100,000 nested arrays would overflow the stack long after it was parsed. Every JSON text that
// comes from the network, a task or a source is checked before it is parsed.
namespace sluice::core {

inline constexpr std::size_t max_json_depth = 64;

// True when no array or object in `text` is nested deeper than `limit` levels. A linear scan
// without recursion that skips strings (escapes included); it does not validate: the parser
// still does, so text that is not JSON may pass here and fail there.
bool json_depth_within(std::string_view text, std::size_t limit = max_json_depth);

}  // namespace sluice::core
