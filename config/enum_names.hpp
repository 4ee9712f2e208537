#pragma once

#include <array>
#include <string_view>
#include <utility>

#include "config/spec.hpp"

// The spelling of every enum value in configuration files, shared by to_string() and the
// decoders so that a value and its error message can never disagree. Internal to config/.
namespace sluice::config {

template <class E, std::size_t N>
using name_table = std::array<std::pair<std::string_view, E>, N>;

inline constexpr name_table<catchup_policy, 3> catchup_names{{
    {"none", catchup_policy::none},
    {"latest", catchup_policy::latest},
    {"all", catchup_policy::all},
}};

inline constexpr name_table<concurrency_policy, 3> concurrency_names{{
    {"allow", concurrency_policy::allow},
    {"forbid", concurrency_policy::forbid},
    {"replace", concurrency_policy::replace},
}};

inline constexpr name_table<trigger_rule, 6> trigger_rule_names{{
    {"all_success", trigger_rule::all_success},
    {"all_done", trigger_rule::all_done},
    {"one_failed", trigger_rule::one_failed},
    {"one_success", trigger_rule::one_success},
    {"none_failed", trigger_rule::none_failed},
    {"always", trigger_rule::always},
}};

inline constexpr name_table<interrupt_action, 2> interrupt_action_names{{
    {"retry", interrupt_action::retry},
    {"fail", interrupt_action::fail},
}};

inline constexpr name_table<task_type, 6> task_type_names{{
    {"noop", task_type::noop},
    {"shell", task_type::shell},
    {"sql", task_type::sql},
    {"copy", task_type::copy},
    {"http", task_type::http},
    {"trigger_job", task_type::trigger_job},
}};

// `postgresql` is accepted as an alias; to_string() gives the first spelling of a value.
inline constexpr name_table<connection_type, 7> connection_type_names{{
    {"postgres", connection_type::postgres},
    {"postgresql", connection_type::postgres},
    {"mysql", connection_type::mysql},
    {"clickhouse", connection_type::clickhouse},
    {"sqlite", connection_type::sqlite},
    {"file", connection_type::file},
    {"http", connection_type::http},
}};

inline constexpr name_table<sink_mode, 4> sink_mode_names{{
    {"append", sink_mode::append},
    {"upsert", sink_mode::upsert},
    {"replace", sink_mode::replace},
    {"scd2", sink_mode::scd2},
}};

inline constexpr name_table<token_role, 3> token_role_names{{
    {"viewer", token_role::viewer},
    {"operator", token_role::operator_},
    {"admin", token_role::admin},
}};

inline constexpr name_table<param_type, 6> param_type_names{{
    {"string", param_type::string},
    {"integer", param_type::integer},
    {"number", param_type::number},
    {"boolean", param_type::boolean},
    {"date", param_type::date},
    {"timestamp", param_type::timestamp},
}};

inline constexpr name_table<notify_event, 4> notify_event_names{{
    {"failure", notify_event::failure},
    {"success", notify_event::success},
    {"retry", notify_event::retry},
    {"sla_miss", notify_event::sla_miss},
}};

inline constexpr name_table<create_table_policy, 2> create_table_names{{
    {"never", create_table_policy::never},
    {"if_missing", create_table_policy::if_missing},
}};

inline constexpr name_table<deletes_policy, 2> deletes_names{{
    {"ignore", deletes_policy::ignore},
    {"detect", deletes_policy::detect},
}};

inline constexpr name_table<file_format, 2> file_format_names{{
    {"csv", file_format::csv},
    {"jsonl", file_format::jsonl},
}};

inline constexpr name_table<store_kind, 2> store_kind_names{{
    {"sqlite", store_kind::sqlite},
    {"postgres", store_kind::postgres},
}};

template <class E, std::size_t N>
constexpr std::string_view name_of(const name_table<E, N>& table, E value) {
    for (const auto& [name, v] : table) {
        if (v == value) {
            return name;
        }
    }
    return "?";
}

}  // namespace sluice::config
