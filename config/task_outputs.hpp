#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"

// Values between tasks (docs/task-kinds.md#values-between-tasks): what a task may publish and
// which tasks see it. Shared by validation (config/), the engine (scheduler/) and the task kinds
// (etl/), so all three agree on names, bounds and what "upstream" means.
namespace sluice::config {

// A published name: 1..64 characters of [A-Za-z0-9_].
inline constexpr std::size_t max_output_name_bytes = 64;
// One value: text, at most 64 KiB. They are meant for ids, counts and marks, not data sets.
inline constexpr std::size_t max_output_value_bytes = 64 * 1024;
// Names one task publishes.
inline constexpr std::size_t max_outputs_per_task = 64;
// The stored outputs of all tasks of one run together (their JSON text): every attempt of a
// downstream task reads them, and the run's detail in the API shows them.
inline constexpr std::size_t max_outputs_per_run_bytes = 1024 * 1024;

// What copy tasks publish by themselves.
inline constexpr std::string_view copy_rows_written_output = "rows_written";
inline constexpr std::string_view copy_mark_output = "mark";

bool is_output_name(std::string_view name);

// How a downstream task receives output NAME of task TASK: the environment variable
// SLUICE_OUTPUT_<TASK>_<NAME> (upper case) and the bind parameter :output_<task>_<name> (lower
// case); every character that is not an ASCII letter or digit becomes '_'.
std::string output_env_name(std::string_view task, std::string_view name);
std::string output_bind_name(std::string_view task, std::string_view name);

// Why a task's published values break a bound (name, count, value size), or nullopt.
std::optional<std::string> outputs_problem(
    const std::vector<std::pair<std::string, std::string>>& outputs);

// The names a task publishes when it succeeds: a sql task's `outputs`, a copy's rows_written
// and mark; nullopt for a shell task, whose names are only known when it runs; empty for the
// other kinds, which publish nothing.
std::optional<std::vector<std::string>> declared_outputs(const task_spec& task);

// Every task `task` depends on, directly or through others (its ancestors), in the job's file
// order; the task itself and unknown names are left out. A task receives the outputs of these.
std::vector<const task_spec*> upstream_tasks(const job_spec& job, std::string_view task);

}  // namespace sluice::config
