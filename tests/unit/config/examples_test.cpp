#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;

namespace {

const std::string examples = SLUICE_SOURCE_DIR "/examples/";

// The variables examples/full.yaml reads.
fixture_env full_env(const std::string& environment) {
    fixture_env env;
    env.environment = environment;
    env.vars = {{"APP_DB_PASSWORD", "app-pw"},
                {"OLAP_PASSWORD", "olap-pw"},
                {"SLUICE_DB_PASSWORD", "store-pw"},
                {"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x"},
                {"CRM_API_TOKEN", "crm-token"}};
    return env;
}

}  // namespace

TEST_CASE("config: examples/quickstart.yaml is valid and runs on SQLite only",
          "[config][examples]") {
    const auto r = load_file(examples + "quickstart.yaml", make_options());
    const auto& cfg = require_config(r);
    CHECK(cfg.store.kind == store_kind::sqlite);
    CHECK(cfg.server.listen == "127.0.0.1:8080");
    REQUIRE(cfg.jobs.size() >= 2);
    for (const auto& job : cfg.jobs) {
        INFO(job.name);
        CHECK(job.schedule.has_value());
        for (const auto& task : job.tasks) {
            const bool local = task.type == task_type::shell || task.type == task_type::noop ||
                               task.type == task_type::sql || task.type == task_type::copy;
            CHECK(local);
            if (const auto* sql = std::get_if<sql_spec>(&task.kind)) {
                CHECK(cfg.connections.at(sql->connection).type == connection_type::sqlite);
            }
            if (const auto* copy = std::get_if<copy_spec>(&task.kind)) {
                CHECK(cfg.connections.at(copy->source.connection).type == connection_type::sqlite);
                CHECK(cfg.connections.at(copy->sink.connection).type == connection_type::sqlite);
            }
        }
    }
}

TEST_CASE("config: examples/full.yaml is valid in the base and every environment",
          "[config][examples]") {
    const auto& base =
        require_config(load_file(examples + "full.yaml", make_options(full_env(""))));
    CHECK(base.jobs.size() == 3);
    CHECK(base.store.kind == store_kind::postgres);
    CHECK(base.store.url_is_secret);
    CHECK(base.connections.at("app").url_is_secret);
    CHECK(base.connections.size() == 6);

    const auto& dev =
        require_config(load_file(examples + "full.yaml", make_options(full_env("dev"))));
    CHECK(dev.store.kind == store_kind::sqlite);
    CHECK(dev.workers == 2);
    CHECK_FALSE(dev.find_job("nightly")->schedule.has_value());

    // prod reads secrets/crm_token next to the file: absent from the repository, present in a
    // deployment. In place, that is the one error; in a directory with the secret, none.
    const auto in_place = load_file(examples + "full.yaml", make_options(full_env("prod")));
    REQUIRE(in_place.diagnostics.size() == 1);
    CHECK(in_place.diagnostics[0].message.find("${file:secrets/crm_token}") != std::string::npos);

    const auto dir = std::filesystem::temp_directory_path() / "sluice-config-full-example";
    std::filesystem::create_directories(dir / "secrets");
    std::filesystem::copy_file(examples + "full.yaml", dir / "full.yaml",
                               std::filesystem::copy_options::overwrite_existing);
    std::ofstream(dir / "secrets/crm_token") << "prod-crm-token\n";
    const auto& prod = require_config(load_file(dir / "full.yaml", make_options(full_env("prod"))));
    CHECK(prod.workers == 32);
    CHECK(prod.connections.at("crm_api").headers.at(0).second == "Bearer prod-crm-token");
    std::filesystem::remove_all(dir);
}

TEST_CASE("config: the ETL examples are valid with their connection URLs from the environment",
          "[config][examples]") {
    fixture_env env;
    env.vars = {{"APP_MYSQL_URL", "mysql://etl:pw@127.0.0.1:3306/shop"},
                {"OLAP_CLICKHOUSE_URL", "http://127.0.0.1:8123/?database=analytics"},
                {"APP_PG_URL", "postgresql://etl@127.0.0.1:5432/app"},
                {"WAREHOUSE_PG_URL", "postgresql://loader@127.0.0.1:5432/warehouse"},
                {"CDC_PG_URL", "postgresql://etl@127.0.0.1:5432/cdc"}};

    const auto& m2c =
        require_config(load_file(examples + "mysql_to_clickhouse.yaml", make_options(env)));
    CHECK(m2c.jobs.size() == 7);
    CHECK(m2c.connections.at("app").type == connection_type::mysql);
    CHECK(m2c.connections.at("olap").type == connection_type::clickhouse);
    CHECK(m2c.find_job("load-orders")->schedule == "*/15 * * * *");
    CHECK_FALSE(m2c.find_job("initial-load")->schedule.has_value());
    CHECK_FALSE(m2c.find_job("rebuild-revenue-history")->schedule.has_value());
    for (const auto& task : m2c.find_job("initial-load")->tasks) {
        CHECK(task.type == task_type::trigger_job);
    }

    // Quartz syntax: the first Sunday of the month.
    const auto& manifest =
        require_config(load_file(examples + "postgres_manifest.yaml", make_options(env)));
    CHECK(manifest.find_job("full-refresh")->schedule == "0 4 ? * SUN#1");
    const auto& refresh = std::get<copy_spec>(manifest.find_job("full-refresh")->tasks[0].kind);
    CHECK(refresh.sink.mode == sink_mode::replace);

    const auto& cdc = require_config(load_file(examples + "cdc_scd2.yaml", make_options(env)));
    const auto& job = *cdc.find_job("apply-customer-changes");
    REQUIRE(job.tasks.size() == 2);
    const auto& current = std::get<copy_spec>(job.tasks[0].kind);
    CHECK(current.sink.mode == sink_mode::upsert);
    CHECK(current.sink.sequence == "lsn");
    CHECK(current.sink.operation == "op");
    const auto& history = std::get<copy_spec>(job.tasks[1].kind);
    CHECK(history.sink.mode == sink_mode::scd2);
    CHECK(history.sink.tracked_columns == std::vector<std::string>{"email", "tier"});
}
