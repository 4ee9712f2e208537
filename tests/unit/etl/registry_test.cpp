#include "etl/registry.hpp"

#include <stdexcept>

#include <catch2/catch.hpp>

#include "etl/noop_task.hpp"

using namespace sluice;

TEST_CASE("registry: builtin kinds are registered explicitly", "[etl][registry]") {
    etl::registry kinds;
    CHECK(kinds.types().empty());
    etl::register_builtin_task_kinds(kinds);
    CHECK(kinds.types() == std::vector<std::string>{"http", "noop", "shell", "sql", "trigger_job"});
    auto runner = kinds.create("noop");
    REQUIRE(runner.has_value());
    CHECK(*runner != nullptr);
}

TEST_CASE("registry: copy is registered when the connectors are given", "[etl][registry]") {
    connectors::connector_registry connectors;
    etl::registry kinds;
    etl::register_builtin_task_kinds(kinds, &connectors);
    CHECK(kinds.types() ==
          std::vector<std::string>{"copy", "http", "noop", "shell", "sql", "trigger_job"});
    auto runner = kinds.create("copy");
    REQUIRE(runner.has_value());
    CHECK(*runner != nullptr);
}

TEST_CASE("registry: an unknown type names the known ones and duplicates are refused",
          "[etl][registry]") {
    etl::registry kinds;
    etl::register_builtin_task_kinds(kinds);
    auto missing = kinds.create("copy");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().cls == core::error_class::permanent);
    CHECK_THAT(missing.error().message, Catch::Contains("'copy'") && Catch::Contains("shell"));
    CHECK_THROWS_AS(kinds.add("noop", [] { return std::unique_ptr<scheduler::task_runner>(); }),
                    std::logic_error);
}

TEST_CASE("noop: succeeds at once unless the attempt is already stopped", "[etl][noop]") {
    config::sluice_config cfg;
    config::job_spec job;
    config::task_spec task;
    scheduler::stop_signal stop;
    core::manual_clock clock(core::time_point{std::chrono::seconds(1000)});
    scheduler::task_context ctx{cfg,
                                job,
                                task,
                                core::run_id{1},
                                core::task_instance_id{1},
                                1,
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
    etl::noop_task noop;
    CHECK(noop.run(ctx).result == scheduler::task_outcome::status::success);
    ctx.deadline = core::time_point{std::chrono::seconds(999)};
    CHECK(noop.run(ctx).result == scheduler::task_outcome::status::timed_out);
    ctx.deadline.reset();
    stop.request(scheduler::stop_signal::reason::canceled);
    stop.request(scheduler::stop_signal::reason::shutdown);  // the first reason wins
    const auto outcome = noop.run(ctx);
    CHECK(outcome.result == scheduler::task_outcome::status::canceled);
    CHECK(outcome.error_class == core::error_class::permanent);
}
