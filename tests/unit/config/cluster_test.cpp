// `cluster:` (docs/cluster.md#settings): the defaults, the heartbeat's default from lease_ttl,
// and every error at the value that causes it.
#include <catch2/catch.hpp>

#include "tests/unit/config/test_support.hpp"

using namespace sluice::config::testing;
using namespace std::chrono_literals;

TEST_CASE("config: cluster defaults to a 10s lease and a heartbeat of a third of it",
          "[config][cluster]") {
    const auto cfg = require_config(load_yaml("workers: 2\n"));
    CHECK(cfg.cluster.node_name.empty());
    CHECK(cfg.cluster.lease_ttl == 10s);
    CHECK(cfg.cluster.heartbeat == 3333ms);

    const auto longer = require_config(load_yaml("cluster: {lease_ttl: 30s}\n"));
    CHECK(longer.cluster.lease_ttl == 30s);
    CHECK(longer.cluster.heartbeat == 10s);

    const auto set = require_config(
        load_yaml("cluster:\n  node_name: etl-1.eu:a_b\n  lease_ttl: 6s\n  heartbeat: 1s\n"));
    CHECK(set.cluster.node_name == "etl-1.eu:a_b");
    CHECK(set.cluster.lease_ttl == 6s);
    CHECK(set.cluster.heartbeat == 1s);
}

TEST_CASE("config: cluster errors say what is wrong at the value's line and column",
          "[config][cluster]") {
    CHECK(only_error("cluster:\n  lease_ttl: 5s\n  heartbeat: 5s\n") ==
          "test.yaml:3:14: error: 'heartbeat' (5s) must be below 'lease_ttl' (5s); lease_ttl / 3 "
          "leaves room for two missed beats");
    // Against the default lease_ttl when none is written.
    CHECK(only_error("cluster: {heartbeat: 12s}\n") ==
          "test.yaml:1:22: error: 'heartbeat' (12s) must be below 'lease_ttl' (10s); lease_ttl / "
          "3 leaves room for two missed beats");
    CHECK(only_error("cluster: {lease_ttl: 500ms}\n") ==
          "test.yaml:1:22: error: 'lease_ttl' must be at least 1s");
    CHECK(only_error("cluster: {lease_ttl: 2h}\n") ==
          "test.yaml:1:22: error: 'lease_ttl' is at most 1h (a lost node goes unnoticed that "
          "long)");
    CHECK(only_error("cluster: {heartbeat: 50ms}\n") ==
          "test.yaml:1:22: error: 'heartbeat' must be at least 100ms");
    CHECK(only_error("cluster: {node_name: \"etl 1\"}\n") ==
          "test.yaml:1:22: error: invalid node_name 'etl 1': use at most 100 letters, digits, "
          "'_', '-', '.' and ':'");
    CHECK(only_error("cluster: {hearbeat: 1s}\n") ==
          "test.yaml:1:11: error: unknown key 'hearbeat' in 'cluster'; did you mean 'heartbeat'?");
}
