#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;
using namespace std::chrono_literals;

namespace {

const std::string base = R"(workers: 4
connections:
  db: {type: postgres, url: "postgresql://etl@dev/app", pool_size: 2}
jobs:
  load:
    schedule: "*/5 * * * *"
    tags: [a, b]
    tasks:
      run: {type: sql, connection: db, sql: "select 1"}
environments:
  prod:
    workers: 16
    connections:
      db: {url: "postgresql://etl@prod/app"}
    jobs:
      load:
        schedule: "0 * * * *"
        tags: [c]
        paused: true
      report:
        tasks: {t: {type: noop}}
  staging:
    jobs:
      load: {catchup: nonee}
)";

load_result with_env(const std::string& yaml, const std::string& environment) {
    fixture_env env;
    env.environment = environment;
    return load_yaml(yaml, env);
}

}  // namespace

TEST_CASE("config: without -e the environments section is not applied", "[config][overlay]") {
    const auto& cfg = require_config(with_env(base, ""));
    CHECK(cfg.workers == 4);
    CHECK(cfg.environment.empty());
    CHECK(cfg.jobs.size() == 1);
}

TEST_CASE("config: an environment overlay deep-merges mappings and replaces the rest",
          "[config][overlay]") {
    const auto& cfg = require_config(with_env(base, "prod"));
    CHECK(cfg.environment == "prod");
    CHECK(cfg.workers == 16);
    const auto& db = cfg.connections.at("db");
    CHECK(db.url == "postgresql://etl@prod/app");
    CHECK(db.pool_size == 2);  // kept from the base: mappings merge key by key
    REQUIRE(cfg.jobs.size() == 2);
    const job_spec& load = cfg.jobs[0];
    CHECK(load.schedule == "0 * * * *");
    CHECK(load.tags == std::vector<std::string>{"c"});  // sequences replace
    CHECK(load.paused);
    CHECK(load.tasks.size() == 1);
    CHECK(cfg.jobs[1].name == "report");  // new keys are added after the base's
}

TEST_CASE("config: diagnostics inside an overlay point at the overlay's lines",
          "[config][overlay]") {
    CHECK(only_error(base, fixture_env{{}, "staging"}) ==
          "test.yaml:24:23: error: invalid value 'nonee' for 'catchup': expected one of none, "
          "latest, all; did you mean 'none'?");
}

TEST_CASE("config: an unknown environment lists the defined ones", "[config][overlay]") {
    CHECK(only_error(base, fixture_env{{}, "prd"}) ==
          "test.yaml:10:1: error: unknown environment 'prd'; defined environments: prod, "
          "staging; did you mean 'prod'?");
    CHECK(only_error("workers: 2\n", fixture_env{{}, "prod"}) ==
          "test.yaml: error: unknown environment 'prod'; no environments are defined (add an "
          "'environments:' section)");
    CHECK(only_error("workers: 2\n", fixture_env{{}, "../etc"}) ==
          "test.yaml: error: invalid environment name '../etc': use letters, digits, '_', '-' "
          "and '.'");
}

TEST_CASE("config: overlays must be mappings and cannot nest environments", "[config][overlay]") {
    CHECK(only_error("environments:\n  prod: [1]\n", fixture_env{{}, ""}) ==
          "test.yaml:2:9: error: expected a mapping for environment 'prod', got a sequence");
    CHECK(only_error("environments:\n  prod:\n    environments: {x: {}}\n",
                     fixture_env{{}, "prod"}) ==
          "test.yaml:3:5: error: 'environments' cannot appear inside an environment overlay");
}

TEST_CASE("config: a sibling file NAME.ENV.yaml is an overlay too", "[config][overlay]") {
    const std::string dir = SLUICE_CONFIG_TEST_DATA "/overlay/";
    load_options options = make_options();
    options.environment = "prod";
    const auto r = load_file(dir + "app.yaml", options);
    const auto& cfg = require_config(r);
    CHECK(cfg.workers == 16);
    CHECK(cfg.connections.at("db").url == "postgresql://etl@db-prod/app");
    CHECK(cfg.connections.at("db").pool_size == 2);
    CHECK(cfg.jobs.at(0).schedule == "0 * * * *");
    CHECK(cfg.jobs.at(0).paused);
    CHECK(cfg.files == std::vector<std::filesystem::path>{dir + "app.yaml", dir + "app.prod.yaml"});

    options.environment = "dev";  // from the environments: section of app.yaml
    CHECK(require_config(load_file(dir + "app.yaml", options)).workers == 1);

    options.environment = "qa";
    CHECK(formatted(load_file(dir + "app.yaml", options)) ==
          std::vector<std::string>{
              dir + "app.qa.yaml:2:10: error: invalid integer 'many' for 'workers'",
              dir + "app.qa.yaml:5:15: error: unknown time zone 'Europe/Nowhere' (expected an "
                    "IANA name such as UTC, Europe/Berlin or America/New_York)",
              dir + "app.qa.yaml:6:1: error: 'environments' cannot appear inside an "
                    "environment overlay",
          });

    options.environment = "stage";
    CHECK(formatted(load_file(dir + "app.yaml", options)) ==
          std::vector<std::string>{dir + "app.yaml:10:1: error: unknown environment 'stage'; "
                                         "defined environments: dev, prod, qa"});
}
