#pragma once

// Run, task and backfill states, their names, and the run keys that make run creation
// idempotent (docs/architecture.md#states). Split from run_store.hpp so that code needing only
// the vocabulary does not pull in the store interface.

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace sluice::scheduler {

// ---- states (docs/architecture.md#states) ----

enum class run_state { queued, running, success, failed, canceled, timed_out };

enum class task_state {
    pending,
    queued,
    running,
    success,
    failed,
    up_for_retry,
    skipped,
    upstream_failed,
    canceled,
};

// Why a run exists; scheduled and manual runs are dispatched before backfill runs.
enum class trigger_kind { scheduled, manual, backfill };

inline constexpr std::array<std::string_view, 6> run_state_names = {
    "queued", "running", "success", "failed", "canceled", "timed_out"};
inline constexpr std::array<std::string_view, 9> task_state_names = {
    "pending",      "queued",  "running",         "success", "failed",
    "up_for_retry", "skipped", "upstream_failed", "canceled"};
inline constexpr std::array<std::string_view, 3> trigger_kind_names = {"scheduled", "manual",
                                                                       "backfill"};
inline constexpr std::array<std::string_view, 2> error_class_names = {"transient", "permanent"};

// Backfills (scheduler/backfill.hpp): the order intervals are run in, which intervals that
// already have a run get another one, and the backfill's own state.
enum class backfill_order { oldest_first, newest_first };
// none: only intervals without a run (or whose runs were all canceled); failed: those too, and
// intervals whose runs failed or timed out (none succeeded); all: every interval. An interval
// with a queued or running run is always skipped: one interval never runs twice at once.
enum class reprocess_mode { none, failed, all };
enum class backfill_state { running, paused, canceled, success, failed };

inline constexpr std::array<std::string_view, 2> backfill_order_names = {"oldest_first",
                                                                         "newest_first"};
inline constexpr std::array<std::string_view, 3> reprocess_mode_names = {"none", "failed", "all"};
inline constexpr std::array<std::string_view, 5> backfill_state_names = {
    "running", "paused", "canceled", "success", "failed"};

// The name arrays are indexed by the enum values: keep both in the same order.
static_assert(run_state_names.size() == static_cast<std::size_t>(run_state::timed_out) + 1);
static_assert(task_state_names.size() == static_cast<std::size_t>(task_state::canceled) + 1);
static_assert(trigger_kind_names.size() == static_cast<std::size_t>(trigger_kind::backfill) + 1);

namespace detail {
template <class Enum, std::size_t N>
std::optional<Enum> parse_enum(const std::array<std::string_view, N>& names,
                               std::string_view text) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == text) {
            return static_cast<Enum>(i);
        }
    }
    return std::nullopt;
}
}  // namespace detail

inline std::string_view to_string(run_state s) {
    return run_state_names[static_cast<int>(s)];
}
inline std::string_view to_string(task_state s) {
    return task_state_names[static_cast<int>(s)];
}
inline std::string_view to_string(trigger_kind k) {
    return trigger_kind_names[static_cast<int>(k)];
}
inline std::string_view to_string(core::error_class c) {
    return error_class_names[static_cast<int>(c)];
}
inline std::string_view to_string(backfill_order o) {
    return backfill_order_names[static_cast<int>(o)];
}
inline std::string_view to_string(reprocess_mode m) {
    return reprocess_mode_names[static_cast<int>(m)];
}
inline std::string_view to_string(backfill_state s) {
    return backfill_state_names[static_cast<int>(s)];
}

inline std::optional<run_state> parse_run_state(std::string_view text) {
    return detail::parse_enum<run_state>(run_state_names, text);
}
inline std::optional<task_state> parse_task_state(std::string_view text) {
    return detail::parse_enum<task_state>(task_state_names, text);
}
inline std::optional<trigger_kind> parse_trigger_kind(std::string_view text) {
    return detail::parse_enum<trigger_kind>(trigger_kind_names, text);
}
inline std::optional<core::error_class> parse_error_class(std::string_view text) {
    return detail::parse_enum<core::error_class>(error_class_names, text);
}
inline std::optional<backfill_order> parse_backfill_order(std::string_view text) {
    return detail::parse_enum<backfill_order>(backfill_order_names, text);
}
inline std::optional<reprocess_mode> parse_reprocess_mode(std::string_view text) {
    return detail::parse_enum<reprocess_mode>(reprocess_mode_names, text);
}
inline std::optional<backfill_state> parse_backfill_state(std::string_view text) {
    return detail::parse_enum<backfill_state>(backfill_state_names, text);
}

// A finished run never changes state again.
inline bool is_terminal(run_state s) {
    return s != run_state::queued && s != run_state::running;
}

// A finished task instance is never rerun on recovery; up_for_retry is not finished.
inline bool is_terminal(task_state s) {
    return s == task_state::success || s == task_state::failed || s == task_state::skipped ||
           s == task_state::upstream_failed || s == task_state::canceled;
}

// A finished backfill never changes state again.
inline bool is_terminal(backfill_state s) {
    return s != backfill_state::running && s != backfill_state::paused;
}

// ---- run keys: one run per key, enforced by a unique index ----

// "sched:JOB:2026-03-29T01:30:00Z": a scheduled tick creates at most one run.
inline std::string scheduled_run_key(std::string_view job, core::sys_seconds logical_time) {
    return "sched:" + std::string(job) + ":" + core::format_rfc3339_utc(logical_time);
}

// "manual:JOB:KEY": a manual trigger carrying an Idempotency-Key creates at most one run.
inline std::string manual_run_key(std::string_view job, std::string_view idempotency_key) {
    return "manual:" + std::string(job) + ":" + std::string(idempotency_key);
}

// "backfill:ID:2026-03-29T01:30:00Z": a backfill creates at most one run per interval, also
// when a step is replayed after a crash; distinct from the scheduled run of the same tick.
inline std::string backfill_run_key(core::backfill_id id, core::sys_seconds logical_time) {
    return "backfill:" + id.to_string() + ":" + core::format_rfc3339_utc(logical_time);
}

// "adhoc:JOB:<128 random bits>": a run that no other request can collide with.
inline std::string unique_run_key(std::string_view job) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string key = "adhoc:" + std::string(job) + ":";
    for (int word = 0; word < 2; ++word) {
        std::uint64_t bits = rng();
        for (int i = 0; i < 16; ++i, bits >>= 4) {
            key += hex[bits & 0xf];
        }
    }
    return key;
}

}  // namespace sluice::scheduler
