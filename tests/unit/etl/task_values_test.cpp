#include "etl/task_values.hpp"

#include <catch2/catch.hpp>

#include "core/clock.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

struct context_fixture {
    config::sluice_config cfg;
    config::job_spec job;
    config::task_spec task;
    scheduler::stop_signal stop;
    core::manual_clock clock;

    scheduler::task_context make() {
        job.name = "ingest-documents";
        task.name = "load";
        return scheduler::task_context{cfg,
                                       job,
                                       task,
                                       core::run_id{9},
                                       core::task_instance_id{1},
                                       2,
                                       std::nullopt,
                                       std::nullopt,
                                       std::nullopt,
                                       {},
                                       {},
                                       {},
                                       std::nullopt,
                                       stop,
                                       clock,
                                       {},
                                       {}};
    }
};

}  // namespace

TEST_CASE("task values: names are mangled for environment and bind names", "[etl][values]") {
    CHECK(etl::env_suffix("batch-size") == "BATCH_SIZE");
    CHECK(etl::env_suffix("api.base_URL") == "API_BASE_URL");
    CHECK(etl::env_suffix("r\xc3\xa9gion 2") == "R__GION_2");
    CHECK(etl::bind_suffix("Batch-Size") == "batch_size");
    CHECK(etl::bind_suffix("x.y z") == "x_y_z");
}

TEST_CASE("task values: environment holds every value, empty times when unset", "[etl][values]") {
    context_fixture f;
    auto ctx = f.make();
    ctx.params = {{"batch-size", "500"}};
    ctx.variables = {{"api.base", "https://x"}};
    const auto env = etl::task_environment(ctx);
    const std::vector<std::pair<std::string, std::string>> expected{
        {"SLUICE_JOB", "ingest-documents"},
        {"SLUICE_TASK", "load"},
        {"SLUICE_RUN_ID", "9"},
        {"SLUICE_TRY_NUMBER", "2"},
        {"SLUICE_LOGICAL_TIME", ""},
        {"SLUICE_DATA_INTERVAL_START", ""},
        {"SLUICE_DATA_INTERVAL_END", ""},
        {"SLUICE_PARAM_BATCH_SIZE", "500"},
        {"SLUICE_VAR_API_BASE", "https://x"},
    };
    CHECK(env == expected);
}

TEST_CASE("task values: bind values are RFC 3339 UTC text, NULL when unset", "[etl][values]") {
    context_fixture f;
    auto ctx = f.make();
    ctx.logical_time = std::chrono::sys_seconds{std::chrono::sys_days{2026y / 1 / 2}} + 3h;
    ctx.data_interval_end = ctx.logical_time;
    ctx.params = {{"Region", "eu"}};
    ctx.variables = {{"k-1", "v"}};
    const auto values = etl::task_bind_values(ctx);
    CHECK(values.at("job") == "ingest-documents");
    CHECK(values.at("task") == "load");
    CHECK(values.at("run_id") == "9");
    CHECK(values.at("try_number") == "2");
    CHECK(values.at("logical_time") == "2026-01-02T03:00:00Z");
    CHECK_FALSE(values.at("data_interval_start").has_value());
    CHECK(values.at("data_interval_end") == "2026-01-02T03:00:00Z");
    CHECK(values.at("param_region") == "eu");
    CHECK(values.at("var_k_1") == "v");
    CHECK(values.size() == 9);
}
