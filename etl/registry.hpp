#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_registry.hpp"
#include "core/error.hpp"
#include "scheduler/task_runner.hpp"

namespace sluice::etl {

// Makes the runner of one task kind. Runners are stateless between attempts and thread-safe, so
// daemon/ may create one per kind and let it serve every attempt of that kind concurrently.
using task_runner_factory = std::function<std::unique_ptr<scheduler::task_runner>()>;

// Task kinds by their type string ("noop", "shell", "sql", ...). Filled explicitly by daemon/
// (register_builtin_task_kinds), never by static self-registration, so the composition root
// decides what exists.
class registry {
public:
    // Adds a kind; registering the same type twice is a programmer error (std::logic_error).
    void add(std::string type, task_runner_factory factory);

    // True when `type` has a factory.
    bool contains(std::string_view type) const;

    // A new runner for `type`; a permanent error naming the known kinds when it is missing.
    core::result<std::unique_ptr<scheduler::task_runner>> create(std::string_view type) const;

    // Every registered type, sorted.
    std::vector<std::string> types() const;

private:
    std::map<std::string, task_runner_factory, std::less<>> factories_;
};

// Registers noop, shell and sql (postgres, sqlite and mysql connections), and copy when
// `connectors` is given (it must outlive the registry's runners).
void register_builtin_task_kinds(registry& kinds,
                                 const connectors::connector_registry* connectors = nullptr);

}  // namespace sluice::etl
