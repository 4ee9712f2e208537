// End-to-end: every file in examples/ is valid for the real binary (real cron parser, real
// interpolation), and the examples run against the test servers: the
// quickstart on SQLite alone, the CDC example on PostgreSQL.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/sql_session.hpp"
#include "daemon_process.hpp"
#include "http_client.hpp"
#include "http_daemon.hpp"
#include "process.hpp"
#include "tests/component/connectors/connector_fixture.hpp"

using Catch::Matchers::Contains;
using sluice::test::connector_fixture;
using sluice::test::engine;
using sluice::test::run_sluice;
using sluice::test::temp_dir;
namespace connectors = sluice::connectors;

namespace {

const std::string examples = SLUICE_SOURCE_DIR "/examples/";

std::string env_or_fail(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        FAIL(name << " is not set: run the tests through `make test` (scripts/test-servers.sh)");
    }
    return v;
}

// The variables the ETL examples read, pointed at the test servers.
std::vector<std::string> example_env() {
    const std::string pg = env_or_fail("SLUICE_TEST_PG_URL");
    return {"APP_MYSQL_URL=" + env_or_fail("SLUICE_TEST_MYSQL_URL"),
            "OLAP_CLICKHOUSE_URL=" + env_or_fail("SLUICE_TEST_CLICKHOUSE_URL"),
            "APP_PG_URL=" + pg,
            "WAREHOUSE_PG_URL=" + pg,
            "CDC_PG_URL=" + pg,
            "APP_DB_PASSWORD=x",
            "OLAP_PASSWORD=x",
            "SLUICE_DB_PASSWORD=x",
            "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/x",
            "CRM_API_TOKEN=x"};
}

// A copy of examples/NAME in a fresh directory, so its relative var/ paths stay in the test.
std::filesystem::path copy_example(const temp_dir& dir, const std::string& name) {
    const auto target = dir.path() / name;
    std::filesystem::copy_file(examples + name, target);
    return target;
}

void execute(const connector_fixture& f, engine e, const std::string& sql) {
    auto session = connectors::open_sql_session(f.spec(e));
    REQUIRE_OK(session);
    INFO(sql);
    REQUIRE_OK((*session)->execute(sql, {}));
}

// Every row of a query as text cells ("NULL" for SQL NULL), in the query's order.
std::vector<std::vector<std::string>> query(connectors::source& source, const std::string& sql) {
    connectors::read_request r{};
    r.query.emplace(sql);
    auto reader = source.read(r);
    INFO(sql);
    REQUIRE_OK(reader);
    std::vector<std::vector<std::string>> rows;
    connectors::row_batch batch;
    for (;;) {
        auto more = (*reader)->next(batch);
        REQUIRE_OK(more);
        if (!*more) {
            break;
        }
        for (std::size_t i = 0; i < batch.row_count(); ++i) {
            std::vector<std::string> row;
            for (std::size_t c = 0; c < batch.column_count(); ++c) {
                row.push_back(batch.is_null(i, c) ? "NULL" : std::string(batch.at(i, c)));
            }
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

}  // namespace

TEST_CASE("every example is valid for the real binary", "[e2e][examples]") {
    const auto env = example_env();
    for (const auto& entry : std::filesystem::directory_iterator(examples)) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        std::vector<std::string> args = {"validate", "-c", entry.path().string(), "--next", "1"};
        if (entry.path().filename() == "full.yaml") {
            args.insert(args.end(), {"-e", "dev"});
        }
        const auto r = run_sluice(args, env);
        INFO(entry.path().filename().string() << "\n" << r.out << r.err);
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.out, Contains("valid"));
    }
}

TEST_CASE("the quickstart's ETL job takes orders, copies them incrementally and summarizes",
          "[e2e][examples]") {
    temp_dir dir;
    const auto config = copy_example(dir, "quickstart.yaml");
    for (int i = 0; i < 3; ++i) {
        const auto r = run_sluice({"run", "-c", config.string(), "load-orders"});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
    }
    sluice::config::connection_spec shop;
    shop.name = "shop";
    shop.type = sluice::config::connection_type::sqlite;
    shop.local_path = dir.path() / "var/shop.db";
    shop.url = "sqlite://" + shop.local_path.string();
    auto warehouse = shop;
    warehouse.name = "warehouse";
    warehouse.local_path = dir.path() / "var/warehouse.db";
    warehouse.url = "sqlite://" + warehouse.local_path.string();
    connectors::connector_registry registry;
    connectors::register_builtin_connectors(registry);
    auto from = registry.open_source(shop);
    REQUIRE_OK(from);
    auto to = registry.open_source(warehouse);
    REQUIRE_OK(to);

    // Three runs took 15 orders and shipped some; the warehouse holds every order in its latest
    // state (the shipped ones were copied again by the high-water mark on updated_at).
    const std::string all =
        "SELECT id, customer, amount, status, created_at, updated_at "
        "FROM orders ORDER BY id";
    const auto in_shop = query(**from, all);
    CHECK(in_shop.size() == 15);
    CHECK(query(**to, all) == in_shop);
    const auto summary = query(**to, "SELECT sum(orders), sum(shipped) FROM daily_summary");
    REQUIRE(summary.size() == 1);
    CHECK(summary[0][0] == "15");
    CHECK(summary[0][1] ==
          query(**from, "SELECT count(*) FROM orders WHERE status = 'shipped'")[0][0]);
}

TEST_CASE("cdc_scd2 applies out-of-order change events to current and history tables",
          "[e2e][examples]") {
    connector_fixture f;
    temp_dir dir;
    const auto config = copy_example(dir, "cdc_scd2.yaml");
    // The example names its tables; a database of their own keeps parallel runs apart.
    const std::string db = "sluice_cdc_" + f.table(engine::postgres, "x");
    execute(f, engine::postgres, "CREATE DATABASE " + db);
    const std::string pg = env_or_fail("SLUICE_TEST_PG_URL");
    const std::string url = pg.substr(0, pg.rfind('/') + 1) + db;
    auto spec = f.spec(engine::postgres);
    spec.url = url;
    auto exec = [&](const std::string& sql) {
        auto session = connectors::open_sql_session(spec);
        REQUIRE_OK(session);
        INFO(sql);
        REQUIRE_OK((*session)->execute(sql, {}));
    };
    exec(
        "CREATE TABLE customer_changes (event_id bigserial PRIMARY KEY, lsn bigint NOT NULL, "
        "op text NOT NULL, customer_id bigint NOT NULL, name text, email text, tier text, "
        "changed_at timestamptz NOT NULL)");
    // Customer 1: created, upgraded, renamed (name is not tracked), then its email changed;
    // the upgrade (lsn 20) arrives after the email change (lsn 40). Customer 2: created and
    // deleted, then a stale update (lsn 15) arrives late. Customer 3: created.
    exec(
        "INSERT INTO customer_changes (lsn, op, customer_id, name, email, tier, changed_at) "
        "VALUES (10, 'insert', 1, 'Ann', 'ann@a.example', 'free', '2026-01-01T10:00:00Z'), "
        "(30, 'update', 1, 'Anne', 'ann@a.example', 'pro', '2026-01-01T12:00:00Z'), "
        "(40, 'update', 1, 'Anne', 'anne@b.example', 'pro', '2026-01-01T13:00:00Z'), "
        "(11, 'insert', 2, 'Bob', 'bob@a.example', 'free', '2026-01-01T10:05:00Z'), "
        "(21, 'delete', 2, 'Bob', 'bob@a.example', 'free', '2026-01-01T11:00:00Z'), "
        "(12, 'insert', 3, 'Cy', 'cy@a.example', 'free', '2026-01-01T10:10:00Z')");
    const std::vector<std::string> env = {"CDC_PG_URL=" + url, "WAREHOUSE_PG_URL=" + url};
    auto run = [&] {
        const auto r = run_sluice({"run", "-c", config.string(), "apply-customer-changes"}, env);
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
    };
    run();
    exec(
        "INSERT INTO customer_changes (lsn, op, customer_id, name, email, tier, changed_at) "
        "VALUES (20, 'update', 1, 'Ann', 'ann@a.example', 'pro', '2026-01-01T11:00:00Z'), "
        "(15, 'update', 2, 'Bobby', 'bob@a.example', 'pro', '2026-01-01T10:30:00Z')");
    run();
    run();  // nothing new: a no-op

    auto source_spec = spec;
    connectors::connector_registry registry;
    connectors::register_builtin_connectors(registry);
    auto source = registry.open_source(source_spec);
    REQUIRE_OK(source);
    // Current state: the newest event per customer wins; customer 2 stays deleted although an
    // older update arrived after the delete.
    const auto visible = query(**source,
                               "SELECT customer_id, name, email, tier, lsn FROM customers_current "
                               "WHERE NOT _deleted ORDER BY customer_id");
    CHECK(visible ==
          std::vector<std::vector<std::string>>{{"1", "Anne", "anne@b.example", "pro", "40"},
                                                {"3", "Cy", "cy@a.example", "free", "12"}});

    // History over the tracked columns (email, tier), versions in lsn order whatever order the
    // events arrived in: customer 1 has three (free -> pro at 11:00 although lsn 20 arrived
    // last, then the email change at 13:00; the rename at 12:00 opened none). Customer 2's late
    // update (lsn 15) slots in before the delete (lsn 21): two versions, both closed.
    const auto history = query(**source,
                               "SELECT customer_id, email, tier, valid_from, valid_to, is_current "
                               "FROM customers_history ORDER BY customer_id, valid_from");
    REQUIRE(history.size() == 6);
    CHECK(history[0][0] == "1");
    CHECK(history[0][2] == "free");
    CHECK(history[1][2] == "pro");
    CHECK(history[1][1] == "ann@a.example");
    CHECK(history[2][1] == "anne@b.example");
    CHECK(history[2][4] == "NULL");
    CHECK(history[2][5] == "true");
    CHECK(history[0][4] == history[1][3]);  // each version ends where the next begins
    CHECK(history[1][4] == history[2][3]);
    CHECK(history[3][0] == "2");
    CHECK(history[3][2] == "free");
    CHECK(history[4][2] == "pro");
    CHECK(history[3][4] == history[4][3]);
    CHECK(history[4][4] != "NULL");  // closed by the delete
    CHECK(history[4][5] == "false");
    CHECK(history[5][0] == "3");
    CHECK(history[5][5] == "true");
    execute(f, engine::postgres, "DROP DATABASE " + db + " WITH (FORCE)");
}

TEST_CASE("mysql_to_clickhouse loads, rebuilds views and runs its initial load",
          "[e2e][examples]") {
    connector_fixture f;
    temp_dir dir;
    const auto config = copy_example(dir, "mysql_to_clickhouse.yaml");
    // The source tables carry the example's names in the MariaDB test database (dropped and
    // filled here); the sink is a ClickHouse database of this test's own, so no mark of an
    // earlier run is found.
    const std::string ch_db = "sluice_m2c_" + f.table(engine::postgres, "x");
    const std::string ch_server = env_or_fail("SLUICE_TEST_CLICKHOUSE_URL");
    sluice::test::clickhouse_run(ch_server, "CREATE DATABASE " + ch_db);
    const std::string ch_url = ch_server.substr(0, ch_server.find("?")) + "?database=" + ch_db;
    auto mysql = [&](const std::string& sql) { execute(f, engine::mysql, sql); };
    for (const char* t : {"orders", "order_items", "customers", "products", "invoices"}) {
        mysql(std::string("DROP TABLE IF EXISTS ") + t);
    }
    mysql(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, "
        "total DECIMAL(12,2) NOT NULL, created_at DATETIME NOT NULL, "
        "updated_at DATETIME NOT NULL)");
    mysql(
        "CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, "
        "sku VARCHAR(32) NOT NULL, qty INT NOT NULL, updated_at DATETIME NOT NULL)");
    mysql(
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, "
        "email VARCHAR(128) NOT NULL, country VARCHAR(2) NOT NULL, "
        "updated_at DATETIME NOT NULL)");
    mysql(
        "CREATE TABLE products (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, "
        "price DECIMAL(10,2) NOT NULL, updated_at DATETIME NOT NULL)");
    mysql(
        "CREATE TABLE invoices (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, "
        "amount DECIMAL(12,2) NOT NULL, updated_at DATETIME NOT NULL)");
    mysql(
        "INSERT INTO orders SELECT seq, seq % 7, seq * 1.5, "
        "TIMESTAMP '2026-11-01 00:00:00' + INTERVAL seq HOUR, "
        "TIMESTAMP '2026-11-01 00:00:00' + INTERVAL seq HOUR FROM seq_1_to_300");
    mysql(
        "INSERT INTO order_items SELECT seq, 1 + seq % 300, CONCAT('sku-', seq % 11), "
        "1 + seq % 3, TIMESTAMP '2026-11-01 00:00:00' FROM seq_1_to_600");
    mysql(
        "INSERT INTO customers SELECT seq, CONCAT('c', seq), CONCAT('c', seq, '@shop.example'), "
        "IF(seq % 2 = 0, 'de', 'fr'), TIMESTAMP '2026-11-01 00:00:00' FROM seq_0_to_6");
    mysql(
        "INSERT INTO products SELECT seq, CONCAT('p', seq), seq + 0.99, "
        "TIMESTAMP '2026-11-01 00:00:00' FROM seq_1_to_11");
    mysql(
        "INSERT INTO invoices SELECT seq, seq, seq * 1.5, TIMESTAMP '2026-11-01 00:00:00' "
        "FROM seq_1_to_250");
    const std::vector<std::string> env = {"APP_MYSQL_URL=" + env_or_fail("SLUICE_TEST_MYSQL_URL"),
                                          "OLAP_CLICKHOUSE_URL=" + ch_url};
    auto run = [&](const std::string& job) {
        const auto r = run_sluice({"run", "-c", config.string(), job}, env);
        INFO(job << "\n" << r.out << r.err);
        REQUIRE(r.exit_code == 0);
    };
    auto ch = [&](const std::string& sql) {
        std::string out = sluice::test::clickhouse_run(ch_url, sql + " FORMAT TabSeparated");
        while (!out.empty() && out.back() == '\n') {
            out.pop_back();
        }
        return out;
    };

    for (const char* job : {"load-orders", "load-customers", "load-products", "load-invoices"}) {
        run(job);
    }
    CHECK(ch("SELECT count(), sum(total) FROM orders FINAL") == "300\t67725.00");
    CHECK(ch("SELECT count() FROM order_items FINAL") == "600");
    CHECK(ch("SELECT country, count() FROM customers FINAL GROUP BY country ORDER BY country") ==
          "DE\t4\nFR\t3");
    CHECK(ch("SELECT email_domain FROM customers FINAL WHERE id = 1") == "shop.example");
    CHECK(ch("SELECT count() FROM invoices FINAL") == "250");

    // Changed rows are picked up by the high-water mark and replace their older versions.
    mysql(
        "UPDATE orders SET total = 0, updated_at = TIMESTAMP '2026-12-01 00:00:00' "
        "WHERE id <= 10");
    run("load-orders");
    CHECK(ch("SELECT count(), sum(total) FROM orders FINAL") == "300\t67642.50");

    run("rebuild-views");
    CHECK(ch("SELECT sum(orders), sum(revenue) FROM daily_revenue") == "300\t67642.50");
    CHECK(ch("SELECT count() FROM customers_by_country") == "2");
    run("rebuild-revenue-history");
    CHECK(ch("SELECT sum(orders) FROM daily_revenue") == "300");

    // The initial load: every load again with full_refresh (trigger_job), then the views.
    run("initial-load");
    CHECK(ch("SELECT count(), sum(total) FROM orders FINAL") == "300\t67642.50");
    const auto listed = run_sluice(
        {"runs", "list", "-c", config.string(), "--output", "json", "--job", "load-orders"}, env);
    REQUIRE(listed.exit_code == 0);
    CHECK(nlohmann::json::parse(listed.out).at("runs").size() == 3);  // 2 by hand + 1 triggered
    sluice::test::clickhouse_run(ch_server, "DROP DATABASE " + ch_db);
}

TEST_CASE("postgres_manifest imports each backfilled interval and refreshes every table",
          "[e2e][examples]") {
    connector_fixture f;
    // The app and the warehouse hold tables of the same names: two databases of this test.
    const std::string suffix = f.table(engine::postgres, "x");
    const std::string app_db = "sluice_app_" + suffix;
    const std::string wh_db = "sluice_wh_" + suffix;
    execute(f, engine::postgres, "CREATE DATABASE " + app_db);
    execute(f, engine::postgres, "CREATE DATABASE " + wh_db);
    const std::string pg = env_or_fail("SLUICE_TEST_PG_URL");
    const std::string base = pg.substr(0, pg.rfind('/') + 1);
    auto spec_of = [&](const std::string& db) {
        auto spec = f.spec(engine::postgres);
        spec.url = base + db;
        return spec;
    };
    auto exec = [&](const std::string& db, const std::string& sql) {
        auto session = connectors::open_sql_session(spec_of(db));
        REQUIRE_OK(session);
        INFO(sql);
        REQUIRE_OK((*session)->execute(sql, {}));
    };
    auto scalar = [&](const std::string& db, const std::string& sql) {
        connectors::connector_registry registry;
        connectors::register_builtin_connectors(registry);
        auto source = registry.open_source(spec_of(db));
        REQUIRE_OK(source);
        return query(**source, sql).at(0).at(0);
    };
    // Accounts 1-10 changed on 1 January, 11-20 on 2 January (one an hour).
    exec(app_db,
         "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, plan text, "
         "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)");
    exec(app_db,
         "INSERT INTO accounts SELECT g, 'a' || g, 'free', timestamptz "
         "'2026-01-01T00:30:00Z' + (g - 1) * interval '1 hour', timestamptz "
         "'2026-01-01T00:30:00Z' + (g - 1) * interval '1 hour' + (g > 10)::int * "
         "interval '1 day' FROM generate_series(1, 20) g");
    exec(app_db,
         "CREATE TABLE subscriptions (id bigint PRIMARY KEY, account_id bigint NOT NULL, "
         "product text NOT NULL, amount numeric(10,2) NOT NULL, status text NOT NULL, "
         "updated_at timestamptz NOT NULL)");
    exec(app_db,
         "INSERT INTO subscriptions SELECT g, g, 'pro', 9.99, 'active', timestamptz "
         "'2026-01-01T00:45:00Z' FROM generate_series(1, 20) g");
    exec(app_db,
         "CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, "
         "kind text NOT NULL)");

    std::ifstream in(examples + "postgres_manifest.yaml");
    std::stringstream yaml;
    yaml << "server: {listen: \"127.0.0.1:0\"}\n" << in.rdbuf();
    sluice::test::http_daemon d(
        yaml.str(), {"APP_PG_URL=" + base + app_db, "WAREHOUSE_PG_URL=" + base + wh_db});
    INFO(d.log());
    REQUIRE(d.port() != 0);

    // A backfill of 1 January: 24 hourly runs, each importing the accounts changed in its hour.
    const nlohmann::json body = {
        {"start", "2026-01-01T00:00:00Z"}, {"end", "2026-01-02T00:00:00Z"}, {"max_active_runs", 4}};
    auto created =
        sluice::test::http_call(d.port(), "POST", "/api/v1/jobs/import-accounts/backfills",
                                body.dump(), {{"Content-Type", "application/json"}});
    INFO(created.body);
    REQUIRE(created.status == 201);
    const auto id = nlohmann::json::parse(created.body).at("id").get<std::int64_t>();
    std::string state;
    for (int i = 0; i < 600 && state != "success" && state != "failed"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto b = nlohmann::json::parse(
            sluice::test::http_call(d.port(), "GET", "/api/v1/backfills/" + std::to_string(id))
                .body);
        state = b.value("state", "");
    }
    if (state != "success") {
        FAIL("backfill " << state << "\n" << d.log());
    }
    CHECK(scalar(wh_db, "SELECT count(*) || ':' || min(id) || '-' || max(id) FROM accounts") ==
          "10:1-10");

    // The monthly full refresh replaces both tables with every row.
    auto run = sluice::test::http_call(d.port(), "POST", "/api/v1/jobs/full-refresh/runs", "{}",
                                       {{"Content-Type", "application/json"}});
    INFO(run.body);
    REQUIRE(run.status == 201);
    const auto run_id = nlohmann::json::parse(run.body).at("run_id").get<std::int64_t>();
    std::string run_state;
    for (int i = 0; i < 300 && run_state != "success" && run_state != "failed"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        run_state =
            nlohmann::json::parse(
                sluice::test::http_call(d.port(), "GET", "/api/v1/runs/" + std::to_string(run_id))
                    .body)
                .value("state", "");
    }
    CHECK(run_state == "success");
    CHECK(scalar(wh_db, "SELECT count(*) FROM accounts") == "20");
    CHECK(scalar(wh_db, "SELECT count(*) FROM subscriptions") == "20");
    CHECK(d.stop() == 0);
    execute(f, engine::postgres, "DROP DATABASE " + app_db + " WITH (FORCE)");
    execute(f, engine::postgres, "DROP DATABASE " + wh_db + " WITH (FORCE)");
}

TEST_CASE("daily_orders (the Airflow DAG translated) totals each backfilled day by its start",
          "[e2e][examples]") {
    connector_fixture f;
    const std::string db = "sluice_orders_" + f.table(engine::postgres, "x");
    execute(f, engine::postgres, "CREATE DATABASE " + db);
    const std::string pg = env_or_fail("SLUICE_TEST_PG_URL");
    auto spec = f.spec(engine::postgres);
    spec.url = pg.substr(0, pg.rfind('/') + 1) + db;
    auto exec = [&](const std::string& sql) {
        auto session = connectors::open_sql_session(spec);
        REQUIRE_OK(session);
        INFO(sql);
        REQUIRE_OK((*session)->execute(sql, {}));
    };
    // Orders of 1-3 January 2026: n orders of 10.00 on day n in region 'us', one in 'eu'.
    exec(
        "CREATE TABLE orders (id serial PRIMARY KEY, region text NOT NULL, "
        "amount numeric(10,2) NOT NULL, created_at timestamptz NOT NULL)");
    exec(
        "INSERT INTO orders (region, amount, created_at) SELECT 'us', 10, "
        "timestamptz '2026-01-01T12:00:00Z' + (d - 1) * interval '1 day' "
        "FROM generate_series(1, 3) d, generate_series(1, 3) k WHERE k <= d");
    exec(
        "INSERT INTO orders (region, amount, created_at) VALUES ('eu', 5, "
        "'2026-01-02T08:00:00Z')");
    exec(
        "CREATE TABLE daily_totals (day date, region text, orders bigint, revenue numeric, "
        "PRIMARY KEY (day, region))");

    std::ifstream in(examples + "daily_orders.yaml");
    std::stringstream yaml;
    yaml << "server: {listen: \"127.0.0.1:0\"}\n" << in.rdbuf();
    sluice::test::http_daemon d(yaml.str(), {"WAREHOUSE_PG_URL=" + spec.url});
    INFO(d.log());
    REQUIRE(d.port() != 0);
    // `sluice backfill daily_orders --from 2026-01-01 --to 2026-01-04 --param region=us`.
    const std::string url = "http://127.0.0.1:" + std::to_string(d.port());
    auto backfill =
        run_sluice({"backfill", "daily_orders", "--from", "2026-01-01T00:00:00Z", "--to",
                    "2026-01-04T00:00:00Z", "--param", "region=us", "--wait", "--output", "json"},
                   {"SLUICE_SERVER=" + url});
    INFO(backfill.out << backfill.err);
    REQUIRE(backfill.exit_code == 0);
    CHECK(nlohmann::json::parse(backfill.out)["counts"]["succeeded"] == 3);
    // Each run totals the day its data interval starts on, as Airflow's {{ ds }} does.
    auto source = f.registry().open_source(spec);
    REQUIRE_OK(source);
    CHECK(query(**source,
                "SELECT day || ' ' || region || ' ' || orders || ' ' || revenue FROM "
                "daily_totals ORDER BY day") ==
          std::vector<std::vector<std::string>>{
              {"2026-01-01 us 1 10.00"}, {"2026-01-02 us 2 20.00"}, {"2026-01-03 us 3 30.00"}});
    auto runs = nlohmann::json::parse(
        sluice::test::http_call(d.port(), "GET", "/api/v1/runs?job=daily_orders").body)["runs"];
    REQUIRE(runs.size() == 3);
    const auto newest = runs[0]["id"].get<std::int64_t>();
    CHECK(runs[0]["logical_time"] == "2026-01-04T00:00:00Z");
    CHECK(runs[0]["data_interval_start"] == "2026-01-03T00:00:00Z");
    CHECK_THAT(sluice::test::http_call(
                   d.port(), "GET", "/api/v1/runs/" + std::to_string(newest) + "/tasks/report/logs")
                   .body,
               Contains("totals of 2026-01-03 for us done"));
    CHECK(d.stop() == 0);
    execute(f, engine::postgres, "DROP DATABASE " + db + " WITH (FORCE)");
}
