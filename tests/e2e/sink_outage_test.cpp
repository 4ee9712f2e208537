// End-to-end: the sink server goes away in the middle of a copy run. The sink is a PostgreSQL
// server of the test's own (private_postgres: the shared servers stay up for other tests), stopped
// with pg_ctl after a few batches committed (at no pinned moment, or pinned by the test's gate in a
// batch's COPY or its COMMIT, or by its lock at the mark) and started again on the same port and
// data dir some seconds later. The attempt that met the outage and the ones that found the server
// down fail transient and are retried; once the server is back the run succeeds and the sink equals
// the source exactly (row count, no duplicate key, an md5 over every column in key order), with the
// sink's mark and its mirror in the store at the last row. A server that hangs (SIGSTOP) instead is
// given up on by the task's timeout (the sql task's case: hung_server_test.cpp). A sink table
// missing a column the source has fails at once: one try although more are allowed, with
// PostgreSQL's own message. The same outage on a MariaDB sink is in sink_outage_mariadb_test.cpp;
// what both share, in sink_outage_support.{hpp,cpp}.
// The source is the shared PostgreSQL of scripts/test-servers.sh (SLUICE_TEST_PG_URL).

#include <chrono>
#include <libpq-fe.h>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/http_daemon.hpp"
#include "tests/e2e/private_postgres.hpp"
#include "tests/e2e/sink_outage_support.hpp"

using namespace sluice;
using namespace sluice::test::outage;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// A session held open on the sink: it keeps the row lock that pauses the daemon inside a batch
// transaction until the server goes away.
class held_session {
public:
    explicit held_session(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
        INFO(PQerrorMessage(conn_));
        REQUIRE(PQstatus(conn_) == CONNECTION_OK);
    }
    ~held_session() { PQfinish(conn_); }
    held_session(const held_session&) = delete;
    held_session& operator=(const held_session&) = delete;
    void exec(const std::string& sql) {
        PGresult* res = PQexec(conn_, sql.c_str());
        const auto status = PQresultStatus(res);
        const std::string error = PQresultErrorMessage(res);
        PQclear(res);
        INFO(sql << ": " << error);
        REQUIRE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK));
    }

private:
    PGconn* conn_;
};

// Thaws a frozen server when the scope ends (a no-op otherwise).
struct thaw_on_exit {
    test::private_postgres& server;
    ~thaw_on_exit() { server.thaw(); }
};

// What happens to the sink server.
enum class fault {
    // pg_ctl stop -m immediate: backends die at once, as in a crash; restarted with recovery.
    stop_immediate,
    // pg_ctl stop -m fast: sessions get 57P01 "terminating connection due to administrator
    // command"; restarted.
    stop_fast,
    // SIGSTOP to every server process, SIGCONT later: connections stay open and nothing
    // answers, as when a server hangs or its host stops responding. libpq waits for an answer
    // without a timeout, so only the task's timeout ends the attempt in flight (it must, and
    // be retried with retry_on_timeout), and later connects fail on connect_timeout.
    freeze,
};

// Where the daemon stands when the sink server stops. The test pins the moments inside a
// batch's sink transaction with locks it holds; the batch must vanish with the server and be
// loaded again by a retry.
enum class outage_moment {
    // Wherever the copy happens to be (mostly between batches, its sink session idle).
    any,
    // In the middle of the batch's COPY: a row trigger on the sink table waits while the test
    // keeps the gate closed.
    in_copy,
    // After the batch's COPY, at its mark: the daemon waits for the row lock of the mark, which
    // the test holds.
    at_mark,
    // In the batch's COMMIT, rows and mark written: a deferred constraint trigger on the sink
    // table waits at the closed gate. The daemon cannot know whether the commit happened.
    in_commit,
};

// Copies the source into the private sink, stops (or freezes) the sink after a few batches,
// keeps it down, starts (thaws) it again, and checks the run recovered without loss or
// duplicates.
void copy_through_outage(fault what, outage_moment moment) {
    const std::string src_url = source_url();
    source_table src(src_url);
    test::private_postgres sink;
    const std::string sink_table = "outage_dst";
    // No key on the sink table: a batch loaded twice would show as duplicate ids, not as an
    // error that hides it.
    pg_exec(sink.url(),
            "CREATE TABLE " + sink_table +
                " (id bigint, a integer, b text, c numeric(12,2), d timestamp, e integer)");
    const std::string count_sql = "SELECT count(*) FROM " + sink_table;
    // The gate of in_copy and in_commit: a row the trigger polls, sleeping while it says closed.
    // Not a lock held by a session of the test's: a fast shutdown ends that session too, and
    // when it went first, the lock it released let the daemon's batch run on and finish its COPY
    // before its own backend saw the shutdown. Only the shutdown itself may end the wait.
    const bool gated = moment == outage_moment::in_copy || moment == outage_moment::in_commit;
    if (gated) {
        pg_exec(sink.url(), "CREATE TABLE outage_gate_state (open boolean NOT NULL)");
        pg_exec(sink.url(), "INSERT INTO outage_gate_state VALUES (true)");
        pg_exec(sink.url(),
                "CREATE FUNCTION outage_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN WHILE NOT (SELECT open FROM outage_gate_state) LOOP "
                "PERFORM pg_sleep(0.05); END LOOP; RETURN NEW; END $$");
    }
    if (moment == outage_moment::in_copy) {
        pg_exec(sink.url(), "CREATE TRIGGER outage_gate BEFORE INSERT ON " + sink_table +
                                " FOR EACH ROW EXECUTE FUNCTION outage_gate()");
    } else if (moment == outage_moment::in_commit) {
        pg_exec(sink.url(), "CREATE CONSTRAINT TRIGGER outage_gate AFTER INSERT ON " + sink_table +
                                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                                "outage_gate()");
    }

    // A hung server is only given up on by the task's timeout (and the cancel's own bound, the
    // connect timeout).
    const bool frozen = what == fault::freeze;
    test::http_daemon d(frozen
                            ? daemon_config(src_url, sink.url(), src.name(), sink_table, "2s",
                                            "        timeout: 8s\n        retry_on_timeout: true\n")
                            : daemon_config(src_url, sink.url(), src.name(), sink_table));
    INFO(d.log());
    REQUIRE(d.port() != 0);
    // Destroyed before the daemon: when a check fails while the server is frozen, the daemon's
    // stop must not wait on a hung attempt.
    const thaw_on_exit thaw_first{sink};
    const auto run = trigger(d.port());

    // A few batches committed, and the run still has most of the table to go.
    const auto loading = std::chrono::steady_clock::now() + 60s;
    long before = 0;
    while (before < rows_before_outage && std::chrono::steady_clock::now() < loading) {
        std::this_thread::sleep_for(20ms);
        before = std::stol(pg_row(sink.url(), count_sql).at(0));
    }
    REQUIRE(before >= rows_before_outage);
    std::optional<held_session> holder;
    if (moment != outage_moment::any) {
        std::string waiting;
        if (gated) {
            pg_exec(sink.url(), "UPDATE outage_gate_state SET open = false");
            waiting =
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query "
                "LIKE '" +
                std::string(moment == outage_moment::in_copy ? "COPY%" : "COMMIT") + "'";
        } else {
            holder.emplace(sink.url());
            holder->exec("BEGIN; SELECT 1 FROM sluice_checkpoints WHERE key = 'load/copy/" +
                         sink_table + "' FOR UPDATE");
            waiting =
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query "
                "LIKE 'INSERT INTO sluice_checkpoints%'";
        }
        // Seen once is enough: the wait only ends with the server (a gated backend is between
        // two sleeps for a moment now and then, so asking again could miss it).
        const auto blocking = std::chrono::steady_clock::now() + 60s;
        bool blocked = false;
        while (!(blocked = pg_row(sink.url(), waiting).at(0) == "1") &&
               std::chrono::steady_clock::now() < blocking) {
            std::this_thread::sleep_for(20ms);
        }
        REQUIRE(blocked);
        before = std::stol(pg_row(sink.url(), count_sql).at(0));
    }
    if (frozen) {
        sink.freeze();
    } else {
        sink.stop(what == fault::stop_fast ? "fast" : "immediate");
    }
    holder.reset();
    const auto stopped_at = std::chrono::steady_clock::now();
    INFO("rows committed before the outage: " << before << " of " << row_count);
    REQUIRE(before < row_count);

    // Down until the outage lasted long enough and the engine retried at least twice: the
    // attempt in flight broke on the lost connection, the next found the server refusing. A
    // frozen server: until the attempt in flight ended on its timeout (8 s, plus at most the
    // 2 s the cancel request waits).
    const int tries_wanted = frozen ? 2 : 3;
    json during = get_run(d.port(), run);
    const auto patience = stopped_at + 60s;
    for (;;) {
        during = get_run(d.port(), run);
        INFO("during the outage: " << during.dump());
        INFO("daemon: " << d.log());
        // A connection error classified permanent would end the run here.
        REQUIRE(during["state"] == "running");
        const json& task = during["tasks"][0];
        if (task["state"] == "up_for_retry" && task["error"].is_object()) {
            CHECK(task["error"]["class"] == "transient");
        }
        const bool long_enough = std::chrono::steady_clock::now() - stopped_at >= outage;
        if ((long_enough && task["try_number"].get<int>() >= tries_wanted) ||
            std::chrono::steady_clock::now() > patience) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    INFO("during the outage: " << during.dump());
    REQUIRE(during["tasks"][0]["try_number"].get<int>() >= tries_wanted);
    const int tries_during_outage = during["tasks"][0]["try_number"].get<int>();
    if (frozen) {
        CHECK(std::chrono::steady_clock::now() - stopped_at < 30s);
        sink.thaw();
    } else {
        sink.start();
        if (gated) {
            // The gate is a row: it stayed closed through the restart.
            pg_exec(sink.url(), "UPDATE outage_gate_state SET open = true");
        }
    }

    const json done = wait_finished(d.port(), run, 120s);
    INFO("run: " << done.dump());
    INFO("daemon: " << d.log());
    INFO("sink server: " << sink.log());
    REQUIRE(done["state"] == "success");
    const json& task = done["tasks"][0];
    CHECK(task["state"] == "success");
    CHECK(task["try_number"].get<int>() >= tries_during_outage);
    CHECK(task["metrics"]["mark"] == json::array({std::to_string(row_count)}));

    // Every try before the last ended up_for_retry (a transient failure) naming the sink
    // connection; the first one broke on the connection it held when the server went away.
    const auto transitions = task_transitions(d.port(), run);
    std::vector<std::string> errors;
    for (const auto& t : transitions) {
        if (t.value("to", "") == "up_for_retry") {
            errors.push_back(t.value("error", ""));
        }
        CHECK(t.value("to", "") != "failed");
    }
    INFO("retried errors:\n"
         << [&] {
                std::string all;
                for (const auto& e : errors) {
                    all += e + "\n";
                }
                return all;
            }());
    CHECK(static_cast<int>(errors.size()) == task["try_number"].get<int>() - 1);
    REQUIRE(errors.size() >= static_cast<std::size_t>(tries_wanted - 1));
    for (std::size_t i = frozen ? 1 : 0; i < errors.size(); ++i) {
        CHECK_THAT(errors[i], Catch::Contains("connection 'dst'"));
    }
    if (moment == outage_moment::in_copy) {
        CHECK_THAT(errors.front(), Catch::Contains("writing to dst." + sink_table));
    } else if (moment == outage_moment::at_mark) {
        CHECK_THAT(errors.front(), Catch::Contains("writing the mark to 'dst'"));
    } else if (moment == outage_moment::in_commit) {
        CHECK_THAT(errors.front(), Catch::Contains("committing the batch in 'dst'"));
    }
    if (frozen) {
        // Ended by its timeout, then connects that time out; no word from the server.
        CHECK_THAT(errors.front(), Catch::StartsWith("timed out after 8s"));
        for (std::size_t i = 1; i < errors.size(); ++i) {
            CHECK_THAT(errors[i], Catch::Contains("cannot connect to PostgreSQL"));
        }
    } else {
        // A later try met the server down: refused, or not accepting connections while it
        // stops or recovers.
        CHECK_THAT(errors.back(), Catch::Contains("cannot connect to PostgreSQL") ||
                                      Catch::Contains("shutting down") ||
                                      Catch::Contains("starting up") ||
                                      Catch::Contains("recovery"));
    }

    // Exactly once: every row, none twice, every column as in the source.
    const auto expected = checksum(src_url, src.name());
    CHECK(expected.at(0) == std::to_string(row_count));
    CHECK(checksum(sink.url(), sink_table) == expected);
    // The mark committed with the last batch, and its mirror in the store, are the last row.
    const auto sink_mark =
        pg_row(sink.url(),
               "SELECT value FROM sluice_checkpoints WHERE key = 'load/copy/" + sink_table + "'")
            .at(0);
    CHECK(json::parse(sink_mark)["mark"] == json::array({std::to_string(row_count)}));
    CHECK(json::parse(store_checkpoint(d.dir() / "var" / "sluice.db")) == json::parse(sink_mark));
    CHECK(d.stop() == 0);
}

}  // namespace

TEST_CASE("a PostgreSQL sink stopped (immediate) at a batch's mark: retried, then every row once",
          "[e2e][etl][outage]") {
    copy_through_outage(fault::stop_immediate, outage_moment::at_mark);
}

TEST_CASE("a PostgreSQL sink stopped (fast) in a batch's COPY: retried, then every row once",
          "[e2e][etl][outage]") {
    copy_through_outage(fault::stop_fast, outage_moment::in_copy);
}

TEST_CASE("a PostgreSQL sink stopped (immediate) in a batch's COMMIT: retried, then every row once",
          "[e2e][etl][outage]") {
    copy_through_outage(fault::stop_immediate, outage_moment::in_commit);
}

TEST_CASE("a PostgreSQL sink stopped (immediate) mid-copy: retried, then every row once",
          "[e2e][etl][outage]") {
    copy_through_outage(fault::stop_immediate, outage_moment::any);
}

TEST_CASE(
    "a PostgreSQL sink that hangs (SIGSTOP) mid-copy: the task's timeout ends the attempt, "
    "retried, then every row once",
    "[e2e][etl][outage]") {
    copy_through_outage(fault::freeze, outage_moment::any);
}

TEST_CASE("a sink table missing a source column fails at once with PostgreSQL's message",
          "[e2e][etl][outage]") {
    const std::string src_url = source_url();
    source_table src(src_url);
    test::private_postgres sink;
    // The source also has `e`; the sink table lacks it (and create_table is left at never).
    pg_exec(sink.url(),
            "CREATE TABLE short_dst (id bigint, a integer, b text, "
            "c numeric(12,2), d timestamp)");

    test::http_daemon d(daemon_config(src_url, sink.url(), src.name(), "short_dst"));
    INFO(d.log());
    REQUIRE(d.port() != 0);
    const auto started = std::chrono::steady_clock::now();
    const auto run = trigger(d.port());
    const json done = wait_finished(d.port(), run, 60s);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO("run: " << done.dump());
    INFO("daemon: " << d.log());
    REQUIRE(done["state"] == "failed");
    const json& task = done["tasks"][0];
    CHECK(task["state"] == "failed");
    // Failed on the first try although 40 are allowed: no retry delay was waited either.
    CHECK(task["try_number"] == 1);
    CHECK(task["max_tries"] == 40);
    CHECK(took < 30s);
    REQUIRE(task["error"].is_object());
    CHECK(task["error"]["class"] == "permanent");
    const std::string message = task["error"]["message"];
    CHECK_THAT(message, Catch::Contains("column \"e\" of relation \"short_dst\" does not exist"));
    CHECK_THAT(message, Catch::Contains("connection 'dst'"));
    CHECK_THAT(message, Catch::Contains("42703"));
    // Nothing was loaded, and no mark was committed.
    CHECK(pg_row(sink.url(), "SELECT count(*) FROM short_dst").at(0) == "0");
    if (pg_row(sink.url(), "SELECT to_regclass('sluice_checkpoints') IS NOT NULL").at(0) == "t") {
        CHECK(pg_row(sink.url(), "SELECT count(*) FROM sluice_checkpoints").at(0) == "0");
    }
    CHECK(d.stop() == 0);
}
