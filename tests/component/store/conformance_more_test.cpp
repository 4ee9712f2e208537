// The run_store conformance suite, part 2: listing, logs, events, variables, checkpoints,
// instances, durability across reopen, and error classification.

// GCC 12 reports the epochs of transition variants moved by an inlined vector reallocation as
// maybe uninitialized (they have initializers: a known -O2 false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <filesystem>
#include <set>
#include <sys/stat.h>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "store/open_store.hpp"
#include "store/postgres_store.hpp"
#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::run_state;
using scheduler::task_state;

STORE_TEST("list_runs filters by job and state and pages newest first without gaps", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    std::vector<core::run_id> etl_runs;
    for (int i = 0; i < 7; ++i) {
        etl_runs.push_back(ok(store->create_run(make_run("etl", "e" + std::to_string(i)))).id);
        ok(store->create_run(make_run("other", "o" + std::to_string(i))));
    }
    apply(*store,
          {scheduler::run_transition{etl_runs[2], run_state::queued, run_state::running, at(1)},
           scheduler::run_transition{etl_runs[5], run_state::queued, run_state::running, at(1)}});

    scheduler::run_filter filter;
    filter.job = "etl";
    filter.limit = 3;
    std::vector<core::run_id> seen;
    int pages = 0;
    while (true) {
        auto page = ok(store->list_runs(filter));
        ++pages;
        for (const auto& r : page.runs) {
            CHECK(r.job == "etl");
            seen.push_back(r.id);
        }
        if (!page.next_cursor) {
            break;
        }
        // A run created between pages does not shift the pages already handed out.
        ok(store->create_run(make_run("etl", "late" + std::to_string(pages))));
        filter.before = page.next_cursor;
    }
    CHECK(pages == 3);
    std::vector<core::run_id> expected(etl_runs.rbegin(), etl_runs.rend());
    CHECK(seen == expected);

    scheduler::run_filter running;
    running.state = run_state::running;
    auto page = ok(store->list_runs(running));
    REQUIRE(page.runs.size() == 2);
    CHECK(page.runs[0].id == etl_runs[5]);
    CHECK(page.runs[1].id == etl_runs[2]);
    CHECK_FALSE(page.next_cursor);

    running.job = "other";
    CHECK(ok(store->list_runs(running)).runs.empty());
}

STORE_TEST("task logs append in order per try and read after a sequence number", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k")));
    auto tasks = ok(store->list_task_instances(run.id));
    std::vector<scheduler::log_line> first{{at(1, 1), "stdout", "one"},
                                           {at(1, 2), "stderr", "two: ünïcode"},
                                           {at(1, 3), "stdout", ""}};
    ok(store->append_task_log(tasks[0].id, 1, first));
    std::vector<scheduler::log_line> other{{at(1, 4), "stdout", "not mine"}};
    ok(store->append_task_log(tasks[1].id, 1, other));
    std::vector<scheduler::log_line> second{{at(2), "stdout", "retry"}};
    ok(store->append_task_log(tasks[0].id, 2, second));

    auto all = ok(store->read_task_log(tasks[0].id, 0, 100));
    REQUIRE(all.size() == 4);
    CHECK(all[0].line.text == "one");
    CHECK(all[0].line.at == at(1, 1));
    CHECK(all[1].line.stream == "stderr");
    CHECK(all[1].line.text == "two: ünïcode");
    CHECK(all[2].line.text.empty());
    CHECK(all[3].try_number == 2);
    for (std::size_t i = 1; i < all.size(); ++i) {
        CHECK(all[i].seq > all[i - 1].seq);
    }
    auto tail = ok(store->read_task_log(tasks[0].id, all[1].seq, 1));
    REQUIRE(tail.size() == 1);
    CHECK(tail[0].seq == all[2].seq);
    CHECK(ok(store->read_task_log(tasks[0].id, all[3].seq, 10)).empty());
}

STORE_TEST("events append in order, page by id, filter by kind, and ride along in a batch",
           "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k")));
    scheduler::new_event paused{at(1),        "job.paused",      "etl",    std::nullopt,
                                std::nullopt, R"({"by":"ops"})", "api:ops"};
    auto first = ok(store->append_event(paused));
    auto outcomes = apply(
        *store, {scheduler::run_transition{run.id, run_state::queued, run_state::running, at(2)},
                 scheduler::new_event{at(2), "run.state", "etl", run.id, std::nullopt,
                                      R"({"to":"running"})", "scheduler"}});
    CHECK(outcomes == std::vector{applied, applied});
    ok(store->append_event({at(3), "task.state", "etl", run.id, "load", "{}", "scheduler"}));

    auto all = ok(store->read_events(0, std::nullopt, 100));
    REQUIRE(all.size() == 3);
    CHECK(all[0].id == first);
    CHECK(all[0].kind == "job.paused");
    CHECK(all[0].actor == "api:ops");
    CHECK_FALSE(all[0].run);
    CHECK(nlohmann::json::parse(all[0].payload_json) == nlohmann::json{{"by", "ops"}});
    CHECK(all[1].run == run.id);
    CHECK(all[2].task == "load");
    CHECK(all[2].at == at(3));
    CHECK(all[1].id > all[0].id);
    CHECK(all[2].id > all[1].id);

    auto after = ok(store->read_events(all[0].id, std::nullopt, 1));
    REQUIRE(after.size() == 1);
    CHECK(after[0].id == all[1].id);
    auto tasks_only = ok(store->read_events(0, std::string_view("task.state"), 100));
    REQUIRE(tasks_only.size() == 1);
    CHECK(tasks_only[0].id == all[2].id);
}

// A batch's events go in as multi-row INSERTs of a few fixed sizes: any count splits into them
// with every row stored once, in batch order.
STORE_TEST("a batch's events are stored once each in batch order, whatever their number",
           "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k", {"only"})));
    std::int64_t after = 0;
    for (int count : {1, 3, 21, 341, 700}) {
        std::vector<scheduler::transition> batch;
        for (int i = 0; i < count; ++i) {
            batch.push_back(
                scheduler::new_event{at(i), i % 3 == 0 ? "task.state" : "run.state", "etl", run.id,
                                     i % 2 == 0 ? std::optional<std::string>("only") : std::nullopt,
                                     R"({"n":)" + std::to_string(i) + "}", "scheduler"});
        }
        CHECK(apply(*store, batch) == std::vector(static_cast<std::size_t>(count), applied));
        auto stored = ok(store->read_events(after, std::nullopt, 1000));
        REQUIRE(stored.size() == static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            INFO("count " << count << ", event " << i);
            CHECK(nlohmann::json::parse(stored[i].payload_json) == nlohmann::json{{"n", i}});
            CHECK(stored[i].at == at(i));
            CHECK(stored[i].task.has_value() == (i % 2 == 0));
            if (i > 0) {
                CHECK(stored[i].id > stored[i - 1].id);
            }
        }
        after = stored.back().id;
    }
    // Hot kinds and rare kinds are read through different paths (migration 6).
    CHECK(ok(store->read_events(0, std::string_view("run.state"), 1000)).size() == 709);
    CHECK(ok(store->read_events(0, std::string_view("task.state"), 1000)).size() == 357);
    CHECK(ok(store->read_events(0, std::string_view("job.paused"), 1000)).empty());
    auto paused = ok(store->append_event(
        {at(9), "job.paused", "etl", std::nullopt, std::nullopt, "{}", "api:ops"}));
    auto rare = ok(store->read_events(0, std::string_view("job.paused"), 1000));
    REQUIRE(rare.size() == 1);
    CHECK(rare[0].id == paused);
    CHECK(ok(store->read_events(paused, std::string_view("job.paused"), 1000)).empty());
}

STORE_TEST("variables put, overwrite, list, and delete", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    CHECK_FALSE(ok(store->get_variable("api_key")));
    ok(store->put_variable({"api_key", "s3cret", true, at(1)}));
    ok(store->put_variable({"region", "eu", false, at(1)}));
    ok(store->put_variable({"region", "us", false, at(2)}));
    auto v = ok(store->get_variable("region"));
    REQUIRE(v);
    CHECK(v->value == "us");
    CHECK_FALSE(v->secret);
    CHECK(v->updated_at == at(2));
    auto secret = ok(store->get_variable("api_key"));
    REQUIRE(secret);
    CHECK(secret->secret);
    auto all = ok(store->list_variables());
    REQUIRE(all.size() == 2);
    CHECK(all[0].key == "api_key");
    CHECK(ok(store->delete_variable("api_key")));
    CHECK_FALSE(ok(store->delete_variable("api_key")));
    CHECK_FALSE(ok(store->get_variable("api_key")));
}

STORE_TEST("checkpoints round-trip JSON per job, task and key", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    CHECK_FALSE(ok(store->get_checkpoint("etl", "load", "cursor")));
    ok(store->put_checkpoint("etl", "load", "cursor", R"({"updated_at":"2026-01-01","id":7})",
                             at(1)));
    ok(store->put_checkpoint("etl", "load", "cursor", R"({"updated_at":"2026-01-02","id":9})",
                             at(2)));
    ok(store->put_checkpoint("etl", "other", "cursor", R"({"id":1})", at(2)));
    auto value = ok(store->get_checkpoint("etl", "load", "cursor"));
    REQUIRE(value);
    CHECK(nlohmann::json::parse(*value) == nlohmann::json{{"updated_at", "2026-01-02"}, {"id", 9}});
    CHECK(nlohmann::json::parse(*ok(store->get_checkpoint("etl", "other", "cursor"))) ==
          nlohmann::json{{"id", 1}});
}

STORE_TEST("instances register and heartbeat", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    ok(store->register_instance({"node-a", R"({"host":"a"})", at(0), at(0)}));
    ok(store->register_instance({"node-b", "{}", at(0), at(0)}));
    CHECK(ok(store->heartbeat_instance("node-a", at(5))));
    CHECK_FALSE(ok(store->heartbeat_instance("node-z", at(5))));
    auto all = ok(store->list_instances());
    REQUIRE(all.size() == 2);
    CHECK(all[0].id == "node-a");
    CHECK(all[0].heartbeat_at == at(5));
    CHECK(all[1].heartbeat_at == at(0));
}

STORE_TEST("data survives closing and reopening the store", "[store]") {
    TestType db;
    core::run_id id;
    {
        auto store = open_migrated(db.url());
        ok(store->upsert_job("etl", "h", false));
        ok(store->set_paused("etl", true));
        id = ok(store->create_run(make_run("etl", "k"))).id;
        auto task = ok(store->list_task_instances(id))[0].id;
        apply(*store, {task_move(task, task_state::pending, 0, task_state::queued, at(1))});
    }
    auto store = open_migrated(db.url());
    CHECK(ok(store->get_job("etl"))->paused);
    auto tasks = ok(store->list_task_instances(id));
    REQUIRE(tasks.size() == 2);
    CHECK(tasks[0].state == task_state::queued);
    CHECK_FALSE(ok(store->create_run(make_run("etl", "k"))).created);
}

TEST_CASE("states, trigger kinds and error classes round-trip through their stored names",
          "[store]") {
    for (auto name : scheduler::run_state_names) {
        auto s = scheduler::parse_run_state(name);
        REQUIRE(s);
        CHECK(scheduler::to_string(*s) == name);
    }
    for (auto name : scheduler::task_state_names) {
        auto s = scheduler::parse_task_state(name);
        REQUIRE(s);
        CHECK(scheduler::to_string(*s) == name);
    }
    CHECK(scheduler::parse_trigger_kind("backfill") == scheduler::trigger_kind::backfill);
    CHECK(scheduler::parse_error_class("transient") == core::error_class::transient);
    CHECK_FALSE(scheduler::parse_task_state("Running"));
    CHECK_FALSE(scheduler::parse_run_state(""));
    CHECK(scheduler::is_terminal(task_state::upstream_failed));
    CHECK_FALSE(scheduler::is_terminal(task_state::up_for_retry));
    CHECK(scheduler::scheduled_run_key("etl", core::sys_seconds{std::chrono::seconds{0}}) ==
          "sched:etl:1970-01-01T00:00:00Z");
    CHECK(scheduler::manual_run_key("etl", "abc") == "manual:etl:abc");
    CHECK(scheduler::unique_run_key("etl") != scheduler::unique_run_key("etl"));
}

TEST_CASE("open_store rejects unknown schemes without echoing passwords", "[store]") {
    auto r = store::open_store("mysql://etl:hunter2@db/x");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().cls == core::error_class::permanent);
    CHECK(r.error().message.find("hunter2") == std::string::npos);
    CHECK(r.error().message.find("sqlite://") != std::string::npos);
    CHECK_FALSE(store::open_store("sqlite://").has_value());
}

TEST_CASE("a new SQLite store, its WAL and its directories are the daemon user's alone",
          "[store]") {
    sqlite_database db;  // for its temporary directory only
    const auto base =
        std::filesystem::path(db.url().substr(std::string("sqlite://").size())).parent_path();
    const auto dir = base / "state" / "nested";
    const auto file = dir / "private.db";
    const mode_t old_mask = ::umask(0);  // the loosest umask: modes come from the store alone
    auto store = open_migrated("sqlite://" + file.string());
    ::umask(old_mask);
    ok(store->create_run(make_run("etl", "wal")));  // the WAL exists while the store is open
    const auto mode_of = [](const std::filesystem::path& p) {
        struct stat st {};
        REQUIRE(::stat(p.c_str(), &st) == 0);
        return st.st_mode & 0777;
    };
    CHECK(mode_of(base / "state") == 0700);
    CHECK(mode_of(dir) == 0700);
    CHECK(mode_of(file) == 0600);
    CHECK(mode_of(file.string() + "-wal") == 0600);
    CHECK(mode_of(file.string() + "-shm") == 0600);
}

TEST_CASE("PostgreSQL SQLSTATEs classify transient or permanent", "[store]") {
    using core::error_class;
    for (auto s : {"08006", "08001", "40001", "40P01", "57P01", "55P03", "57014"}) {
        CHECK(store::classify_sqlstate(s) == error_class::transient);
    }
    for (auto s : {"42601", "42P01", "42501", "23505", "22P02"}) {
        CHECK(store::classify_sqlstate(s) == error_class::permanent);
    }
}

TEST_CASE("PostgreSQL store: a lost connection is transient and the retry gets a fresh one",
          "[store]") {
    postgres_database db;
    auto store = open_migrated(db.url());
    ok(store->put_variable({"a", "1", false, at(0)}));
    {
        pqxx::connection admin(db.admin_url());
        pqxx::nontransaction tx(admin);
        auto killed = tx.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
            "datname = " +
            tx.quote(db.name()) + " AND pid <> pg_backend_pid()");
        REQUIRE(killed.size() >= 1);
    }
    auto lost = store->get_variable("a");
    REQUIRE_FALSE(lost.has_value());
    CHECK(lost.error().cls == core::error_class::transient);
    INFO(lost.error().message);
    auto retried = store->get_variable("a");
    REQUIRE(retried.has_value());
    REQUIRE(*retried);
    CHECK((*retried)->value == "1");
}

// Transition batches travel on a connection of their own (one round trip per transaction):
// losing it is transient and the next batch reconnects; a failed batch leaves it usable.
TEST_CASE("PostgreSQL store: transition batches survive a lost connection and a failed batch",
          "[store]") {
    postgres_database db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k", {"a", "b"})));
    auto tasks = ok(store->list_task_instances(run.id));
    const auto a = tasks[0].id;
    const auto b = tasks[1].id;
    CHECK(apply(*store, {task_move(a, task_state::pending, 0, task_state::queued, at(1))}) ==
          std::vector{applied});
    {
        pqxx::connection admin(db.admin_url());
        pqxx::nontransaction tx(admin);
        auto killed = tx.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
            "datname = " +
            tx.quote(db.name()) + " AND pid <> pg_backend_pid()");
        REQUIRE(killed.size() >= 1);
        // Until the terminated backends are gone (they closed their connections).
        for (int i = 0; i < 500; ++i) {
            auto left = tx.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = " +
                                tx.quote(db.name()));
            if (left[0][0].as<int>() == 0) {
                break;
            }
            std::this_thread::sleep_for(10ms);
        }
    }
    // The next batch notices the closed connection before sending anything and connects again.
    std::vector<scheduler::transition> start_b{
        task_move(b, task_state::pending, 0, task_state::queued, at(2))};
    CHECK(apply(*store, start_b) == std::vector{applied});
    // The pool's connections were cut too; its first call reports that (see above).
    CHECK_FALSE(store->get_task_instance(b).has_value());
    CHECK(ok(store->get_task_instance(b))->state == task_state::queued);

    // A statement the server rejects (malformed JSON) rolls its batch back, prepared statements
    // of the batch included, and the next batch runs them on the same connection.
    auto run_a = task_move(a, task_state::queued, 0, task_state::running, at(3));
    auto bad = run_a;
    bad.metrics_json = "{not json";
    std::vector<scheduler::transition> failing{
        scheduler::run_transition{run.id, run_state::queued, run_state::running, at(3)}, bad};
    auto failed = store->apply(failing);
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error().cls == core::error_class::permanent);
    CHECK(failed.error().message.find("SQLSTATE 22P02") != std::string::npos);
    CHECK(ok(store->get_run(run.id))->state == run_state::queued);
    CHECK(apply(*store,
                {scheduler::run_transition{run.id, run_state::queued, run_state::running, at(4)},
                 run_a}) == std::vector{applied, applied});
    CHECK(ok(store->get_run(run.id))->state == run_state::running);
    CHECK(ok(store->get_task_instance(a))->state == task_state::running);
}

TEST_CASE("PostgreSQL store: an unreachable server is a transient error naming the URL",
          "[store]") {
    auto r = store::open_store("postgresql://etl:hunter2@127.0.0.1:1/nowhere?connect_timeout=2");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().cls == core::error_class::transient);
    CHECK(r.error().message.find("hunter2") == std::string::npos);
    CHECK(r.error().message.find("127.0.0.1:1") != std::string::npos);
}

}  // namespace
}  // namespace sluice::test
