#include "scheduler/trigger_params.hpp"

#include <catch2/catch.hpp>

using namespace sluice;

namespace {

config::job_spec job_with_params() {
    config::job_spec job;
    job.name = "load";
    config::param_spec day;
    day.name = "day";
    day.type = config::param_type::date;
    day.required = true;
    config::param_spec limit;
    limit.name = "limit";
    limit.type = config::param_type::integer;
    limit.default_value = "100";
    config::param_spec mode;
    mode.name = "mode";
    mode.values = {"full", "delta"};
    mode.default_value = "delta";
    config::param_spec dry;
    dry.name = "dry_run";
    dry.type = config::param_type::boolean;
    job.params = {day, limit, mode, dry};
    return job;
}

}  // namespace

TEST_CASE("params fill in defaults", "[params]") {
    auto out = scheduler::resolve_params(job_with_params(), {{"day", "2026-03-01"}});
    REQUIRE(out.has_value());
    CHECK(out->at("day") == "2026-03-01");
    CHECK(out->at("limit") == "100");
    CHECK(out->at("mode") == "delta");
    CHECK_FALSE(out->contains("dry_run"));
}

TEST_CASE("params reject unknown names, bad types, missing required values", "[params]") {
    auto job = job_with_params();
    auto unknown = scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"dya", "x"}});
    REQUIRE_FALSE(unknown.has_value());
    CHECK_THAT(unknown.error().message, Catch::Contains("dya"));
    auto missing = scheduler::resolve_params(job, {});
    REQUIRE_FALSE(missing.has_value());
    CHECK_THAT(missing.error().message, Catch::Contains("required"));
    CHECK_FALSE(scheduler::resolve_params(job, {{"day", "2026-13-01"}}).has_value());
    CHECK_FALSE(
        scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"limit", "1.5"}}).has_value());
    CHECK_FALSE(
        scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"dry_run", "yes"}}).has_value());
    auto not_allowed = scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"mode", "x"}});
    REQUIRE_FALSE(not_allowed.has_value());
    CHECK_THAT(not_allowed.error().message, Catch::Contains("full, delta"));
    CHECK(scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"dry_run", "true"}}).has_value());
}

TEST_CASE("params round trip through JSON", "[params]") {
    scheduler::param_values v{{"a", "1"}, {"b", "x \"y\""}};
    auto back = scheduler::params_from_json(scheduler::params_to_json(v));
    REQUIRE(back.has_value());
    CHECK(*back == v);
    CHECK_FALSE(scheduler::params_from_json("[1]").has_value());
    CHECK(scheduler::params_from_json("{\"n\": 3}")->at("n") == "3");
}

TEST_CASE("default params of a scheduled run", "[params]") {
    auto d = scheduler::default_params(job_with_params());
    CHECK(d == scheduler::param_values{{"limit", "100"}, {"mode", "delta"}});
}
