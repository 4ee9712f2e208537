#include "etl/registry.hpp"

#include <stdexcept>
#include <utility>

#include "etl/copy_task.hpp"
#include "etl/http_task.hpp"
#include "etl/noop_task.hpp"
#include "etl/shell_task.hpp"
#include "etl/sql_task.hpp"
#include "etl/trigger_job_task.hpp"

namespace sluice::etl {

void registry::add(std::string type, task_runner_factory factory) {
    if (!factory) {
        throw std::logic_error("task kind '" + type + "' registered without a factory");
    }
    const auto [it, inserted] = factories_.emplace(std::move(type), std::move(factory));
    if (!inserted) {
        throw std::logic_error("task kind '" + it->first + "' registered twice");
    }
}

bool registry::contains(std::string_view type) const {
    return factories_.find(type) != factories_.end();
}

core::result<std::unique_ptr<scheduler::task_runner>> registry::create(
    std::string_view type) const {
    const auto it = factories_.find(type);
    if (it == factories_.end()) {
        std::string known;
        for (const auto& [name, factory] : factories_) {
            known += (known.empty() ? "" : ", ") + name;
        }
        return core::error::permanent("no runner for task type '" + std::string(type) +
                                      "' in this build (known: " + known + ")");
    }
    return it->second();
}

std::vector<std::string> registry::types() const {
    std::vector<std::string> out;
    for (const auto& [name, factory] : factories_) {
        out.push_back(name);
    }
    return out;
}

void register_builtin_task_kinds(registry& kinds,
                                 const connectors::connector_registry* connectors) {
    kinds.add(std::string(config::to_string(config::task_type::noop)),
              [] { return std::make_unique<noop_task>(); });
    kinds.add(std::string(config::to_string(config::task_type::shell)),
              [] { return std::make_unique<shell_task>(); });
    kinds.add(std::string(config::to_string(config::task_type::sql)),
              [] { return std::make_unique<sql_task>(); });
    kinds.add(std::string(config::to_string(config::task_type::http)),
              [] { return std::make_unique<http_task>(); });
    kinds.add(std::string(config::to_string(config::task_type::trigger_job)),
              [] { return std::make_unique<trigger_job_task>(); });
    if (connectors != nullptr) {
        kinds.add(std::string(config::to_string(config::task_type::copy)),
                  [connectors] { return std::make_unique<copy_task>(*connectors); });
    }
}

}  // namespace sluice::etl
