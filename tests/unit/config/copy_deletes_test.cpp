// `deletes: detect` of a copy task (docs/configuration.md#copy): accepted with an upsert sink and
// a key, refused at the `deletes` value otherwise.
#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;

namespace {

// The connections take lines 2-5; the task starts on line 9.
std::string copy_task(const std::string& source, const std::string& sink,
                      const std::string& deletes = "detect") {
    return "connections:\n"
           "  pg: {type: postgresql, url: \"postgresql://etl@db/app\"}\n"
           "  ch: {type: clickhouse, url: \"http://ch:8123/?database=dw\"}\n"
           "  files: {type: file, url: \"file://exports\", format: csv}\n"
           "  lite: {type: sqlite, url: \"sqlite://var/w.db\"}\n"
           "jobs:\n"
           "  j:\n"
           "    tasks:\n"
           "      t:\n"
           "        type: copy\n"
           "        source: {" +
           source + "}\n        sink: {" + sink + "}\n        deletes: " + deletes + "\n";
}

}  // namespace

TEST_CASE("config: copy deletes: detect with an upsert sink and a key", "[config][tasks]") {
    const auto cfg = require_config(
        load_yaml(copy_task("connection: pg, table: orders, cursor: [updated_at, id]",
                            "connection: ch, table: orders, mode: upsert, key: [id]")));
    CHECK(std::get<copy_spec>(cfg.jobs[0].tasks[0].kind).deletes == deletes_policy::detect);
    const auto plain = require_config(load_yaml(
        copy_task("connection: pg, table: orders", "connection: lite, table: orders", "ignore")));
    CHECK(std::get<copy_spec>(plain.jobs[0].tasks[0].kind).deletes == deletes_policy::ignore);
}

TEST_CASE("config: copy deletes: detect is refused where it cannot work", "[config][tasks]") {
    CHECK(only_error(copy_task("connection: pg, table: orders",
                               "connection: lite, table: orders, mode: append")) ==
          "test.yaml:13:18: error: 'deletes: detect' applies only to mode: upsert (this sink uses "
          "append); it deletes the sink rows whose key left the source");
    CHECK(
        only_error(copy_task("connection: pg, table: orders", "connection: lite, table: orders")) ==
        "test.yaml:13:18: error: 'deletes: detect' applies only to mode: upsert (this sink uses "
        "append); it deletes the sink rows whose key left the source");
    CHECK(only_error(copy_task("connection: files, path: orders.csv",
                               "connection: lite, table: orders, mode: upsert, key: [id]")) ==
          "test.yaml:13:18: error: 'deletes: detect' reads the source's keys in key order, which "
          "a file source cannot do; use a postgres, mysql, clickhouse or sqlite source");
    CHECK(
        only_error(copy_task(
            "connection: pg, table: events, cursor: [seq]",
            "connection: lite, table: t, mode: upsert, key: [id], sequence: seq, operation: op")) ==
        "test.yaml:13:18: error: 'deletes: detect' cannot be combined with 'operation': a "
        "change stream carries its deletes as events, and its keys are not the source's rows");
    CHECK(only_error(copy_task("connection: pg, table: orders, columns: {id: \"id + 1\", n: n}",
                               "connection: lite, table: orders, mode: upsert, key: [id]")) ==
          "test.yaml:13:18: error: 'deletes: detect' compares the key column 'id' of table "
          "'orders' under its own name, but the source computes it ('id + 1'); compute it in a "
          "source 'query' instead");
    CHECK(only_error(copy_task("connection: pg, table: orders",
                               "connection: lite, table: orders, mode: upsert, key: [id]",
                               "sometimes")) ==
          "test.yaml:13:18: error: invalid value 'sometimes' for 'deletes': expected one of "
          "ignore, detect");
}
