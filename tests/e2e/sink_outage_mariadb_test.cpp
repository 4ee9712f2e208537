// End-to-end: the sink outage of sink_outage_test.cpp on a MariaDB sink of the test's own
// (private_mariadb), from the shared PostgreSQL source of scripts/test-servers.sh.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/http_daemon.hpp"
#include "tests/e2e/private_mariadb.hpp"
#include "tests/e2e/sink_outage_support.hpp"

using namespace sluice;
using namespace sluice::test::outage;
using namespace std::chrono_literals;
using json = nlohmann::json;

// The same outage on a MariaDB sink: its server killed (-9) after a few batches and started
// again on the same port and data dir (InnoDB crash recovery). The lost connection is
// transient (2013 "lost connection", then 2002 "can't connect"); afterwards the sink holds
// every row once.
TEST_CASE("a MariaDB sink killed mid-copy: retried, then every row once", "[e2e][etl][outage]") {
    const std::string src_url = source_url();
    source_table src(src_url);
    test::private_mariadb sink;
    sink.query(
        "CREATE TABLE sluice_test.outage_dst (id BIGINT, a INT, b VARCHAR(32), "
        "c DECIMAL(12,2), d DATETIME, e INT)");
    const auto count = [&] {
        return std::stol(sink.query("SELECT count(*) FROM sluice_test.outage_dst"));
    };

    test::http_daemon d(
        daemon_config(src_url, sink.url(), src.name(), "outage_dst", "5s", "", "mysql"));
    INFO(d.log());
    REQUIRE(d.port() != 0);
    const auto run = trigger(d.port());
    const auto loading = std::chrono::steady_clock::now() + 60s;
    long before = 0;
    while (before < rows_before_outage && std::chrono::steady_clock::now() < loading) {
        std::this_thread::sleep_for(20ms);
        before = count();
    }
    REQUIRE(before >= rows_before_outage);
    sink.kill();
    const auto killed_at = std::chrono::steady_clock::now();
    INFO("rows committed before the outage: " << before << " of " << row_count);
    REQUIRE(before < row_count);

    json during = get_run(d.port(), run);
    for (;;) {
        during = get_run(d.port(), run);
        INFO("during the outage: " << during.dump());
        INFO("daemon: " << d.log());
        REQUIRE(during["state"] == "running");
        const bool long_enough = std::chrono::steady_clock::now() - killed_at >= outage;
        if ((long_enough && during["tasks"][0]["try_number"].get<int>() >= 3) ||
            std::chrono::steady_clock::now() > killed_at + 60s) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    REQUIRE(during["tasks"][0]["try_number"].get<int>() >= 3);
    sink.start();

    const json done = wait_finished(d.port(), run, 120s);
    INFO("run: " << done.dump());
    INFO("daemon: " << d.log());
    INFO("sink server: " << sink.log());
    REQUIRE(done["state"] == "success");
    std::vector<std::string> errors;
    for (const auto& t : task_transitions(d.port(), run)) {
        if (t.value("to", "") == "up_for_retry") {
            errors.push_back(t.value("error", ""));
        }
    }
    REQUIRE(errors.size() >= 2);
    for (const auto& e : errors) {
        CHECK_THAT(e, Catch::Contains("connection 'dst'"));
    }
    CHECK_THAT(errors.back(), Catch::Contains("cannot connect to MySQL"));

    const auto expected = checksum(src_url, src.name());
    CHECK(expected.at(0) == std::to_string(row_count));
    std::string in_sink = sink.query(
        "SET SESSION group_concat_max_len = 1073741824; SELECT count(*), count(DISTINCT id), "
        "MD5(GROUP_CONCAT(CONCAT_WS('|', id, a, b, c, DATE_FORMAT(d, '%Y-%m-%d %H:%i:%s'), e) "
        "ORDER BY id SEPARATOR ',')) FROM sluice_test.outage_dst");
    while (!in_sink.empty() && in_sink.back() == '\n') {
        in_sink.pop_back();
    }
    CHECK(in_sink == expected.at(0) + "\t" + expected.at(1) + "\t" + expected.at(2));
    const std::string sink_mark = sink.query(
        "SELECT value FROM sluice_test.sluice_checkpoints WHERE `key` = 'load/copy/outage_dst'");
    CHECK(json::parse(sink_mark)["mark"] == json::array({std::to_string(row_count)}));
    CHECK(json::parse(store_checkpoint(d.dir() / "var" / "sluice.db"))["mark"] ==
          json::parse(sink_mark)["mark"]);
    CHECK(d.stop() == 0);
}
