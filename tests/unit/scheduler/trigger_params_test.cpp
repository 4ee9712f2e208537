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

// std::regex recursed once per character: a 1 MiB value crashed the daemon (stack overflow).
TEST_CASE("params of 1 MiB are checked without recursion and quoted cut", "[params]") {
    auto job = job_with_params();
    config::param_spec ratio;
    ratio.name = "ratio";
    ratio.type = config::param_type::number;
    job.params.push_back(ratio);
    const std::string digits(1024 * 1024, '7');
    auto too_big = scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"limit", digits}});
    REQUIRE_FALSE(too_big.has_value());  // out of range for a 64-bit integer
    CHECK(too_big.error().message.size() < 300);
    CHECK_THAT(too_big.error().message, Catch::Contains("1048576 bytes"));
    CHECK(scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"ratio", digits}}).has_value());
    CHECK(scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"ratio", "1." + digits + "e-5"}})
              .has_value());
    CHECK_FALSE(scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"ratio", digits + "x"}})
                    .has_value());
    CHECK_FALSE(scheduler::resolve_params(job, {{"day", digits}}).has_value());
    CHECK_FALSE(
        scheduler::resolve_params(job, {{"day", "2026-03-01"}, {"mode", digits}}).has_value());
}

TEST_CASE("number params follow the decimal grammar", "[params]") {
    config::job_spec job;
    job.name = "n";
    config::param_spec ratio;
    ratio.name = "ratio";
    ratio.type = config::param_type::number;
    job.params = {ratio};
    for (const char* ok : {"1", "-1", "+2.5", "3.", ".5", "1e9", "1.5E-3", "0"}) {
        INFO(ok);
        CHECK(scheduler::resolve_params(job, {{"ratio", ok}}).has_value());
    }
    for (const char* bad : {"", ".", "+", "1e", "e5", "1.2.3", "1e+", "--1", "0x10", " 1"}) {
        INFO(bad);
        CHECK_FALSE(scheduler::resolve_params(job, {{"ratio", bad}}).has_value());
    }
}
