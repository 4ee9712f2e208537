// `inherit_env` (defaults, jobs) and a shell task's `secrets` (docs/task-kinds.md#environment).
#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;

namespace {

// defaults.inherit_env is on line 2, the job's on line 5, its task on line 7.
std::string with(const std::string& defaults, const std::string& job, const std::string& task) {
    return "defaults:\n  inherit_env: " + defaults + "\njobs:\n  j:\n    inherit_env: " + job +
           "\n    tasks:\n      t: {type: shell, command: env" + task + "}\n";
}

}  // namespace

TEST_CASE("config: a job's inherit_env adds to the defaults' list", "[config][environment]") {
    const auto& cfg = require_config(load_yaml(
        with("[http_proxy, AWS_*]", "[CREDENTIALS_DIRECTORY, AWS_*]", ", secrets: [api.key]")));
    CHECK(cfg.defaults.inherit_env == std::vector<std::string>{"http_proxy", "AWS_*"});
    CHECK(cfg.jobs[0].inherit_env ==
          std::vector<std::string>{"http_proxy", "AWS_*", "CREDENTIALS_DIRECTORY"});
    CHECK(std::get<shell_spec>(cfg.jobs[0].tasks[0].kind).secrets ==
          std::vector<std::string>{"api.key"});

    // A job without its own list gets the defaults'; a lone name is a list of one.
    const auto& one = require_config(load_yaml(
        "defaults: {inherit_env: LANGUAGE}\njobs:\n  j:\n    tasks:\n      t: {type: noop}\n"));
    CHECK(one.jobs[0].inherit_env == std::vector<std::string>{"LANGUAGE"});
}

TEST_CASE("config: inherit_env refuses the whole environment and invalid names at their place",
          "[config][environment]") {
    CHECK(only_error(with("['*']", "[]", "")) ==
          "test.yaml:2:17: error: inherit_env: '*' would pass the daemon's whole environment, "
          "the passwords of the configuration included; name the variables, or a prefix such as "
          "'AWS_*'");
    CHECK(only_error(with("[]", "[A*B]", "")) ==
          "test.yaml:5:19: error: inherit_env: invalid variable name 'A*B': use letters, digits "
          "and '_', optionally ending in '*'");
    CHECK(only_error(with("[]", "[SLUICE_*]", "")) ==
          "test.yaml:5:19: error: inherit_env: variables starting with SLUICE_ are set by Sluice "
          "itself ('SLUICE_*')");
    CHECK(only_error(with("{a: b}", "[]", "")) ==
          "test.yaml:2:16: error: expected a string or a sequence of strings for 'inherit_env', "
          "got a mapping");
}

TEST_CASE("config: a shell task's secrets are variable keys, each once", "[config][environment]") {
    CHECK(only_error(with("[]", "[]", ", secrets: [ok, \"no way\"]")) ==
          "test.yaml:7:52: error: secrets: invalid variable key 'no way': a key is 1-128 "
          "characters of letters, digits, '_', '-' and '.'");
    CHECK(only_error(with("[]", "[]", ", secrets: [k, k]")) ==
          "test.yaml:7:51: error: secrets: 'k' is listed twice");
    CHECK(only_error("jobs:\n  j:\n    tasks:\n      t: {type: noop, secrets: [k]}\n") ==
          "test.yaml:4:23: error: key 'secrets' does not apply to noop tasks (it belongs to shell "
          "tasks)");
}
