// End-to-end: the sink server goes away in the middle of a copy run (issue 5, item 6). The
// sink is a PostgreSQL server of the test's own (private_postgres: the shared servers stay up
// for other tests), stopped with pg_ctl after a few batches committed (at no pinned moment, or
// pinned by the test's locks in a batch's COPY, at its mark or in its COMMIT) and started again
// on the same port and data dir some seconds later. The attempt that met the outage and the
// ones that found the server down fail transient and are retried; once the server is back the
// run succeeds and the sink equals the source exactly (row count, no duplicate key, an md5 over
// every column in key order), with the sink's mark and its mirror in the store at the last row.
// A server that hangs (SIGSTOP) instead is given up on by the task's timeout, for copy and sql
// tasks alike. A sink table missing a column the source has fails at once: one try although
// more are allowed, with PostgreSQL's own message.
// The source is the shared PostgreSQL of scripts/test-servers.sh (SLUICE_TEST_PG_URL).

#include <chrono>
#include <cstdlib>
#include <libpq-fe.h>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "tests/e2e/http_client.hpp"
#include "tests/e2e/http_daemon.hpp"
#include "tests/e2e/private_mariadb.hpp"
#include "tests/e2e/private_postgres.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// 30 batches of 1,000 rows 100 ms apart: at least 3 s of copying, so an outage at no pinned
// moment still lands while most of the table is to come even on a loaded machine.
constexpr int row_count = 30000;
constexpr int batch_rows = 1000;
// The sink is stopped once this many rows committed (three batches).
constexpr int rows_before_outage = 3 * batch_rows;
// At least this long down: long enough for the attempt in flight and a few reconnects to fail.
constexpr auto outage = 3s;
// The retry policy spans about a minute of outage (0.3 s, 0.45 s, ... capped at 2 s, 40 tries).
const std::string retries = "{max_attempts: 40, delay: 300ms, backoff: 1.5, max_delay: 2s}";

// The first row of `sql` on the server at `url`, each cell as text ("NULL" for SQL NULL), or
// nullopt when the server cannot be reached; any other failure fails the test.
std::optional<std::vector<std::string>> pg_try_row(const std::string& url, const std::string& sql) {
    PGconn* conn = PQconnectdb((url + "?connect_timeout=5").c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return std::nullopt;
    }
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);  // DROP ... IF EXISTS notices
    PGresult* res = PQexec(conn, sql.c_str());
    const auto status = PQresultStatus(res);
    const std::string error = PQresultErrorMessage(res);
    std::vector<std::string> out;
    if (status == PGRES_TUPLES_OK && PQntuples(res) > 0) {
        for (int c = 0; c < PQnfields(res); ++c) {
            out.emplace_back(PQgetisnull(res, 0, c) != 0 ? "NULL" : PQgetvalue(res, 0, c));
        }
    }
    PQclear(res);
    PQfinish(conn);
    INFO(sql);
    INFO(error);
    REQUIRE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK));
    return out;
}

std::vector<std::string> pg_row(const std::string& url, const std::string& sql) {
    auto row = pg_try_row(url, sql);
    INFO("cannot connect to " << url << " for: " << sql);
    REQUIRE(row.has_value());
    return *row;
}

void pg_exec(const std::string& url, const std::string& sql) {
    (void)pg_row(url, sql);
}

std::string source_url() {
    const char* url = std::getenv("SLUICE_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
        FAIL("SLUICE_TEST_PG_URL is not set: start the servers with scripts/test-servers.sh");
    }
    return url;
}

// The source table, unique to this process and dropped at the end.
class source_table {
public:
    explicit source_table(std::string url)
        : url_(std::move(url)), name_("sink_outage_src_" + std::to_string(::getpid())) {
        pg_exec(url_,
                "DROP TABLE IF EXISTS " + name_ + "; CREATE TABLE " + name_ + " " + columns +
                    "; INSERT INTO " + name_ +
                    " SELECT g, g % 1000, md5(g::text), ((g % 100000) / 100.0)::numeric(12,2), "
                    "timestamp '2026-01-01' + g * interval '1 second', g % 7 FROM "
                    "generate_series(1, " +
                    std::to_string(row_count) + ") g");
    }
    ~source_table() { (void)pg_try_row(url_, "DROP TABLE IF EXISTS " + name_); }
    source_table(const source_table&) = delete;
    source_table& operator=(const source_table&) = delete;
    const std::string& name() const { return name_; }

    static constexpr const char* columns =
        "(id bigint PRIMARY KEY, a integer, b text, c numeric(12,2), d timestamp, e integer)";

private:
    std::string url_;
    std::string name_;
};

// count, distinct keys and an md5 over every column of every row in key order.
std::vector<std::string> checksum(const std::string& url, const std::string& table) {
    return pg_row(url,
                  "SELECT count(*), count(DISTINCT id), md5(string_agg(concat_ws('|', id, a, b, c, "
                  "to_char(d, 'YYYY-MM-DD HH24:MI:SS'), e), ',' ORDER BY id)) FROM " +
                      table);
}

// `task_keys`: more keys of the copy task, each line indented by 8.
std::string daemon_config(const std::string& source, const std::string& sink,
                          const std::string& source_table, const std::string& sink_table,
                          const std::string& connect_timeout = "5s",
                          const std::string& task_keys = "",
                          const std::string& sink_type = "postgres") {
    return "server:\n  listen: \"127.0.0.1:0\"\nstore:\n  url: \"sqlite://var/sluice.db\"\n"
           "shutdown_grace: 1s\nconnections:\n  src: {type: postgres, url: \"" +
           source + "\"}\n  dst: {type: " + sink_type + ", url: \"" + sink +
           "\", connect_timeout: " + connect_timeout +
           "}\njobs:\n  load:\n    retries: " + retries +
           "\n    tasks:\n      copy:\n        type: copy\n" + task_keys +
           "        source: {connection: src, table: " + source_table +
           ", cursor: [id]}\n        sink: {connection: dst, table: " + sink_table +
           ", mode: append}\n        batch_rows: " + std::to_string(batch_rows) +
           "\n        sleep_between_batches: 100ms\n";
}

std::int64_t trigger(std::uint16_t port) {
    auto r = test::http_call(port, "POST", "/api/v1/jobs/load/runs", "{}");
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["run_id"].get<std::int64_t>();
}

json get_run(std::uint16_t port, std::int64_t run) {
    auto r = test::http_call(port, "GET", "/api/v1/runs/" + std::to_string(run));
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
}

bool finished(const json& run) {
    const std::string state = run.value("state", "");
    return state != "queued" && state != "running";
}

json wait_finished(std::uint16_t port, std::int64_t run, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    json j = get_run(port, run);
    while (!finished(j) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        j = get_run(port, run);
    }
    INFO(j.dump());
    REQUIRE(finished(j));
    return j;
}

// The task.state transitions of `run` stored as events.
std::vector<json> task_transitions(std::uint16_t port, std::int64_t run) {
    std::vector<json> out;
    std::int64_t after = 0;
    for (;;) {
        auto r = test::http_call(
            port, "GET", "/api/v1/events?kind=task.state&limit=1000&after=" + std::to_string(after),
            "", {{"Accept", "application/json"}});
        INFO(r.body);
        REQUIRE(r.status == 200);
        const json page = json::parse(r.body);
        for (const auto& e : page["events"]) {
            if (e["run"] == run) {
                out.push_back(e["payload"]);
            }
        }
        if (page["next_after"].is_null()) {
            return out;
        }
        after = page["next_after"].get<std::int64_t>();
    }
}

// The value stored for `key` in a SQLite database (the daemon's store), or "" when none.
std::string store_checkpoint(const std::filesystem::path& db) {
    sqlite3* conn = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    const char* sql =
        "SELECT value FROM checkpoints WHERE job = 'load' AND task = 'copy' AND key = 'mark'";
    REQUIRE(sqlite3_prepare_v2(conn, sql, -1, &stmt, nullptr) == SQLITE_OK);
    std::string value;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return value;
}

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
    // In the middle of the batch's COPY: a row trigger on the sink table waits for an advisory
    // lock the test holds.
    in_copy,
    // After the batch's COPY, at its mark: the daemon waits for the row lock of the mark, which
    // the test holds.
    at_mark,
    // In the batch's COMMIT, rows and mark written: a deferred constraint trigger on the sink
    // table waits for the advisory lock. The daemon cannot know whether the commit happened.
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
    // The gate of in_copy and in_commit: open (a shared lock) unless the test holds the lock.
    const std::string gate_lock = "4242";
    if (moment == outage_moment::in_copy || moment == outage_moment::in_commit) {
        pg_exec(sink.url(),
                "CREATE FUNCTION outage_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN PERFORM pg_advisory_xact_lock_shared(" +
                    gate_lock + "); RETURN NEW; END $$");
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
        holder.emplace(sink.url());
        std::string blocked_statement;
        if (moment == outage_moment::in_copy || moment == outage_moment::in_commit) {
            holder->exec("SELECT pg_advisory_lock(" + gate_lock + ")");
            blocked_statement = moment == outage_moment::in_copy ? "COPY%" : "COMMIT";
        } else {
            holder->exec("BEGIN; SELECT 1 FROM sluice_checkpoints WHERE key = 'load/copy/" +
                         sink_table + "' FOR UPDATE");
            blocked_statement = "INSERT INTO sluice_checkpoints%";
        }
        const std::string waiting =
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query "
            "LIKE '" +
            blocked_statement + "'";
        const auto blocking = std::chrono::steady_clock::now() + 60s;
        while (pg_row(sink.url(), waiting).at(0) != "1" &&
               std::chrono::steady_clock::now() < blocking) {
            std::this_thread::sleep_for(20ms);
        }
        REQUIRE(pg_row(sink.url(), waiting).at(0) == "1");
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
