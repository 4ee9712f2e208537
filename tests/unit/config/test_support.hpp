#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

namespace sluice::config::testing {

struct fixture_env {
    std::map<std::string, std::string> vars;
    std::string environment;
};

inline load_options make_options(const fixture_env& env = {}) {
    load_options options;
    options.environment = env.environment;
    options.getenv = [vars = env.vars](const std::string& name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    return options;
}

inline load_result load_yaml(std::string_view yaml, const fixture_env& env = {}) {
    return load_string(yaml, "test.yaml", make_options(env));
}

// Every diagnostic formatted as the CLI prints it.
inline std::vector<std::string> formatted(const load_result& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics) {
        out.push_back(format_diagnostic(d));
    }
    return out;
}

// The single diagnostic of a load, formatted; fails the test when there is not exactly one.
inline std::string only_error(std::string_view yaml, const fixture_env& env = {}) {
    const auto r = load_yaml(yaml, env);
    const auto all = formatted(r);
    INFO(yaml);
    for (const auto& line : all) {
        UNSCOPED_INFO(line);
    }
    REQUIRE(all.size() == 1);
    CHECK_FALSE(r.config.has_value());
    return all.front();
}

// A copy, so that `const auto& cfg = require_config(load_yaml(...))` never dangles.
inline sluice_config require_config(const load_result& r) {
    for (const auto& d : r.diagnostics) {
        UNSCOPED_INFO(format_diagnostic(d));
    }
    REQUIRE(r.diagnostics.empty());
    REQUIRE(r.config.has_value());
    return *r.config;
}

// A minimal valid job wrapped around task definitions (indented by 6 spaces).
inline std::string job_with_tasks(const std::string& tasks) {
    return "jobs:\n  j:\n    tasks:\n" + tasks;
}

}  // namespace sluice::config::testing
