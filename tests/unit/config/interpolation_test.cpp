#include <algorithm>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "core/redact.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;
using namespace std::chrono_literals;

TEST_CASE("config: ${env:NAME} expands inside any scalar and marks the value secret",
          "[config][interp]") {
    fixture_env env;
    env.vars = {{"PW", "s3cr3t"}, {"WORKERS", "6"}, {"GRACE", "45s"}};
    const auto& cfg = require_config(load_yaml(R"(workers: ${env:WORKERS}
shutdown_grace: "${env:GRACE}"
connections:
  app: {type: mysql, url: "mysql://etl:${env:PW}@db:3306/app"}
)",
                                               env));
    CHECK(cfg.workers == 6);
    CHECK(cfg.shutdown_grace == 45s);
    const auto& app = cfg.connections.at("app");
    CHECK(app.url == "mysql://etl:s3cr3t@db:3306/app");
    CHECK(app.url_is_secret);
    CHECK(sluice::core::redact_url(app.url) == "mysql://etl:***@db:3306/app");
}

TEST_CASE("config: an unset variable is an error at the placeholder", "[config][interp]") {
    CHECK(only_error(
              "connections:\n  app: {type: mysql, url: \"mysql://etl:${env:APP_PW}@db/app\"}\n") ==
          "test.yaml:2:40: error: environment variable 'APP_PW' is not set (used by "
          "${env:APP_PW})");
    const auto r = load_yaml("store: {url: \"postgres://${env:A}:${env:B}@h/db\"}\n");
    CHECK(formatted(r) == std::vector<std::string>{
                              "test.yaml:1:26: error: environment variable 'A' is not set (used "
                              "by ${env:A})",
                              "test.yaml:1:35: error: environment variable 'B' is not set (used "
                              "by ${env:B})",
                          });
    CHECK(only_error("workers: ${env:bad-name}\n") ==
          "test.yaml:1:10: error: invalid environment variable name in '${env:bad-name}' "
          "(expected letters, digits and '_')");
    CHECK(only_error("workers: \"${env:W\"\n") ==
          "test.yaml:1:11: error: unterminated '${env:' placeholder: add the closing '}'");
}

TEST_CASE("config: $${ is a literal ${ and other ${...} are kept for the shell",
          "[config][interp]") {
    const auto& cfg = require_config(load_yaml(job_with_tasks(
        "      t: {type: shell, command: \"echo $${env:HOME} ${HOME} ${USER:-x} $$5\"}\n")));
    const auto& shell = std::get<shell_spec>(cfg.jobs[0].tasks[0].kind);
    CHECK(shell.command == "echo ${env:HOME} ${HOME} ${USER:-x} $$5");
}

TEST_CASE("config: ${file:PATH} reads a file relative to the config, minus one newline",
          "[config][interp]") {
    const std::string dir = SLUICE_CONFIG_TEST_DATA;
    const std::string yaml = R"(connections:
  api: {type: http, url: "https://api.example.com", headers: {Authorization: "Bearer ${file:secrets/api_token}"}}
jobs:
  j:
    tasks:
      t: {type: shell, command: run, env: {TOKEN: "${file:)" +
                             dir + R"(/secrets/api_token}", PLAIN: x}}
)";
    const auto r = load_string(yaml, dir + "/inline.yaml", make_options());
    const auto& cfg = require_config(r);
    const auto& api = cfg.connections.at("api");
    CHECK(api.headers.at(0).second == "Bearer tok-from-file-XYZ");
    CHECK(api.secret_headers == std::set<std::string>{"Authorization"});
    const auto& shell = std::get<shell_spec>(cfg.jobs[0].tasks[0].kind);
    CHECK(shell.env.at(0).second == "tok-from-file-XYZ");
    CHECK(shell.secret_env == std::set<std::string>{"TOKEN"});

    const auto missing =
        load_string("workers: \"${file:secrets/nope}\"\n", dir + "/inline.yaml", make_options());
    CHECK(formatted(missing) ==
          std::vector<std::string>{dir + "/inline.yaml:1:11: error: cannot read '" + dir +
                                   "/secrets/nope' for ${file:secrets/nope}: No such file or "
                                   "directory"});
    CHECK(only_error("workers: \"${file:/dev/null/x}\"\n").find("cannot read '/dev/null/x'") !=
          std::string::npos);
}

TEST_CASE("config: interpolated values never appear in diagnostics", "[config][interp][secrets]") {
    const std::string secret = "Tr0ub4dor&3-SECRET";
    fixture_env env;
    for (const char* name : {"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11",
                             "S12", "S13", "S14", "S15"}) {
        env.vars[name] = secret;
    }
    const auto r = load_yaml(R"(server:
  listen: "${env:S1}"
  tokens: [{name: t, sha256: "${env:S2}", role: "${env:S3}"}]
  public_url: "${env:S4}"
store: {url: "${env:S5}"}
workers: ${env:S6}
shutdown_grace: ${env:S7}
defaults:
  timezone: UTC
  retries: {backoff: "${env:S8}"}
  notify: {webhook: "${env:S9}", email: "${env:S10}"}
connections:
  db: {type: postgres, url: "${env:S11}"}
jobs:
  j:
    schedule: "${env:S12}"
    catchup: "${env:S13}"
    params:
      n: {type: integer, default: "${env:S14}"}
    tasks:
      t: {type: http, url: "${env:S15}"}
)",
                             env);
    REQUIRE_FALSE(r.config.has_value());
    const auto lines = formatted(r);
    CHECK(lines.size() == 15);
    for (const auto& line : lines) {
        INFO(line);
        CHECK(line.find(secret) == std::string::npos);
        CHECK(line.find("Tr0ub") == std::string::npos);
        CHECK(line.find("${env:S") != std::string::npos);
    }
    CHECK(lines[0] ==
          "test.yaml:2:11: error: invalid listen address from ${env:S1}: expected "
          "HOST:PORT such as 127.0.0.1:8080");
    CHECK(lines[5] == "test.yaml:6:10: error: invalid integer from ${env:S6} for 'workers'");
    CHECK(lines[6] ==
          "test.yaml:7:17: error: invalid duration from ${env:S7} for "
          "'shutdown_grace': expected a duration such as 500ms, 90s, 15m, 2h, 1d or "
          "1h30m");
    CHECK(lines[11] ==
          "test.yaml:16:15: error: invalid schedule from ${env:S12} (the expanded "
          "value is not shown)");
    CHECK(lines[12] ==
          "test.yaml:17:14: error: invalid value from ${env:S13} for 'catchup': "
          "expected one of none, latest, all");
}

TEST_CASE("config: placeholders repeated through aliases are bounded", "[config][interp]") {
    fixture_env env;
    env.vars = {{"BIG", std::string(1024 * 1024, 'v')}};
    std::string yaml = "a: &a \"${env:BIG}\"\njobs:\n  j:\n    tags: [";
    for (int i = 0; i < 20; ++i) {
        yaml += i == 0 ? "*a" : ", *a";
    }
    yaml += "]\n    tasks: {t: {type: noop}}\n";
    const auto r = load_yaml(yaml, env);
    REQUIRE_FALSE(r.diagnostics.empty());
    const auto lines = formatted(r);
    CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find("placeholders expand to more than") != std::string::npos;
    }));
}
