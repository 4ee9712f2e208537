#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace sluice::core {

// A strongly typed integer id: a run_id cannot be passed where a backfill_id is expected.
template <class Tag>
struct id {
    std::int64_t value = 0;

    friend auto operator<=>(const id&, const id&) = default;
    std::string to_string() const { return std::to_string(value); }
};

using run_id = id<struct run_tag>;
using task_instance_id = id<struct task_instance_tag>;
using backfill_id = id<struct backfill_tag>;

}  // namespace sluice::core

template <class Tag>
struct std::hash<sluice::core::id<Tag>> {
    std::size_t operator()(const sluice::core::id<Tag>& i) const noexcept {
        return std::hash<std::int64_t>{}(i.value);
    }
};
