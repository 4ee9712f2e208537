#include "etl/copy_bounds.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/time.hpp"

using namespace sluice;

namespace {

config::task_spec copy_task(std::string name, config::copy_source_spec source) {
    config::copy_spec copy;
    copy.source = std::move(source);
    copy.sink.connection = "warehouse";
    copy.sink.table = "t";
    copy.sink.mode = config::sink_mode::upsert;
    config::task_spec task;
    task.name = std::move(name);
    task.type = config::task_type::copy;
    task.kind = copy;
    return task;
}

}  // namespace

TEST_CASE("backfill dry runs say what each copy task would read", "[etl][copy][backfill]") {
    config::job_spec job;
    job.name = "j";
    config::copy_source_spec by_interval;
    by_interval.connection = "app";
    by_interval.query =
        "SELECT * FROM accounts WHERE updated_at >= :data_interval_start AND "
        "updated_at < :data_interval_end";
    config::copy_source_spec incremental;
    incremental.connection = "app";
    incremental.table = "events";
    incremental.cursor = {"created_at", "id"};
    incremental.lookback = std::chrono::minutes(5);
    config::copy_source_spec whole;
    whole.connection = "app";
    whole.table = "products";
    job.tasks = {copy_task("accounts", by_interval), copy_task("events", incremental),
                 copy_task("products", whole)};
    config::task_spec shell;
    shell.name = "notify";
    shell.type = config::task_type::shell;
    job.tasks.push_back(shell);

    const scheduler::backfill_interval at{core::parse_rfc3339("2026-01-02T00:00:00Z").value(),
                                          core::parse_rfc3339("2026-01-01T00:00:00Z").value(),
                                          core::parse_rfc3339("2026-01-02T00:00:00Z").value()};
    const auto bounds = etl::copy_read_bounds(job, at);
    REQUIRE(bounds.size() == 3);  // copy tasks only, in the job's order

    CHECK(bounds[0].task == "accounts");
    const auto a = nlohmann::json::parse(bounds[0].bounds_json);
    CHECK(a.at("data_interval_start") == "2026-01-01T00:00:00Z");
    CHECK(a.at("data_interval_end") == "2026-01-02T00:00:00Z");
    CHECK(a.at("reads") == "the query's rows for this interval");

    const auto e = nlohmann::json::parse(bounds[1].bounds_json);
    CHECK_FALSE(e.contains("data_interval_start"));
    CHECK(e.at("cursor") == nlohmann::json::array({"created_at", "id"}));
    CHECK(e.at("lookback") == "5m");
    CHECK(e.at("reads").get<std::string>().find("after the stored mark") != std::string::npos);

    const auto p = nlohmann::json::parse(bounds[2].bounds_json);
    CHECK(p.at("reads") == "every row of the source");
    CHECK(p.at("source") == "app: table products");
    CHECK(p.at("sink") == "warehouse: t (upsert)");
}
