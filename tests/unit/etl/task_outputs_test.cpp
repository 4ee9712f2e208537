// Values between tasks, the pure parts (docs/task-kinds.md#values-between-tasks): output lines,
// the names downstream tasks receive, http placeholders and their encodings.

#include "config/task_outputs.hpp"

#include <catch2/catch.hpp>

#include "config/placeholders.hpp"
#include "core/clock.hpp"
#include "etl/output_lines.hpp"
#include "etl/task_values.hpp"

using namespace sluice;

namespace {

struct context_fixture {
    config::sluice_config cfg;
    config::job_spec job;
    config::task_spec task;
    scheduler::stop_signal stop;
    core::manual_clock clock;

    scheduler::task_context make() {
        job.name = "daily";
        task.name = "notify";
        return scheduler::task_context{cfg,
                                       job,
                                       task,
                                       core::run_id{9},
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
    }
};

}  // namespace

TEST_CASE("output lines: output lines are parsed, the value taken as written", "[etl][outputs]") {
    auto o = etl::parse_output_line("::sluice output batch_id=42");
    REQUIRE(o);
    REQUIRE(o->value);
    CHECK(o->value->name == "batch_id");
    CHECK(o->value->value == "42");
    o = etl::parse_output_line("  ::sluice output  path = s3://b/k=v x  ");
    REQUIRE(o);
    REQUIRE(o->value);
    CHECK(o->value->name == "path");
    CHECK(o->value->value == " s3://b/k=v x  ");
    o = etl::parse_output_line("::sluice output empty=");
    REQUIRE(o);
    REQUIRE(o->value);
    CHECK(o->value->value.empty());
    CHECK_FALSE(etl::parse_output_line("echo ::sluice output x=1"));
    CHECK_FALSE(etl::parse_output_line("::sluice metric x=1"));
}

TEST_CASE("output lines: a malformed or oversized output line is an error", "[etl][outputs]") {
    for (const char* line : {"::sluice output x", "::sluice output =1", "::sluice output a-b=1",
                             "::sluice output a.b=1"}) {
        INFO(line);
        auto o = etl::parse_output_line(line);
        REQUIRE(o);
        CHECK_FALSE(o->value);
        CHECK(o->error);
    }
    const std::string name(65, 'n');
    auto o = etl::parse_output_line("::sluice output " + name + "=1");
    REQUIRE(o);
    CHECK_FALSE(o->value);
    const std::string at_bound(config::max_output_value_bytes, 'v');
    o = etl::parse_output_line("::sluice output big=" + at_bound);
    REQUIRE(o);
    REQUIRE(o->value);
    CHECK(o->value->value.size() == config::max_output_value_bytes);
    o = etl::parse_output_line("::sluice output big=" + at_bound + "v");
    REQUIRE(o);
    CHECK_FALSE(o->value);
    REQUIRE(o->error);
    CHECK(o->error->find("65536") != std::string::npos);
    // A shell line holding a value at the bound is not cut by the line splitter.
    CHECK(std::string("::sluice output big=").size() + at_bound.size() <=
          etl::max_output_line_bytes);
}

TEST_CASE("task outputs: per-task bounds", "[etl][outputs]") {
    std::vector<std::pair<std::string, std::string>> outputs;
    for (std::size_t i = 0; i < config::max_outputs_per_task; ++i) {
        outputs.emplace_back("n" + std::to_string(i), "v");
    }
    CHECK_FALSE(config::outputs_problem(outputs));
    outputs.emplace_back("one_more", "v");
    REQUIRE(config::outputs_problem(outputs));
    CHECK(config::outputs_problem(outputs)->find("at most 64") != std::string::npos);
    CHECK(config::outputs_problem({{"bad name", "v"}}));
    CHECK(config::outputs_problem({{"x", std::string("a\0b", 3)}}));
    CHECK(config::outputs_problem({{"x", std::string(config::max_output_value_bytes + 1, 'v')}}));
}

TEST_CASE("task values: upstream outputs reach the environment and the bind values",
          "[etl][outputs]") {
    context_fixture f;
    auto ctx = f.make();
    ctx.upstream_outputs = {{"extract-orders", {{"batch_id", "42"}, {"Path", "/tmp/x"}}}};
    const auto env = etl::task_environment(ctx);
    const auto has = [&](const std::string& k, const std::string& v) {
        return std::find(env.begin(), env.end(), std::pair{k, v}) != env.end();
    };
    CHECK(has("SLUICE_OUTPUT_EXTRACT_ORDERS_BATCH_ID", "42"));
    CHECK(has("SLUICE_OUTPUT_EXTRACT_ORDERS_PATH", "/tmp/x"));
    const auto values = etl::task_bind_values(ctx);
    CHECK(values.at("output_extract_orders_batch_id") == "42");
    CHECK(values.at("output_extract_orders_path") == "/tmp/x");
}

TEST_CASE("placeholders: found, read and refused", "[etl][outputs]") {
    auto scan = config::find_placeholders("a {{ output.ex-1.v2.id }} b {{param.x}} {{ var.k }}");
    REQUIRE_FALSE(scan.error);
    REQUIRE(scan.found.size() == 3);
    CHECK(scan.found[0].from == config::text_placeholder::source::output);
    CHECK(scan.found[0].first == "ex-1.v2");
    CHECK(scan.found[0].second == "id");
    CHECK(scan.found[0].offset == 2);
    CHECK(scan.found[1].from == config::text_placeholder::source::param);
    CHECK(scan.found[2].from == config::text_placeholder::source::var);
    CHECK(config::find_placeholders("{{ logical_time }}").found.size() == 1);
    for (const char* bad : {"{{ nope }}", "{{ output.x }}", "{{ param. }}", "x {{ run_id",
                            "{{ output.a.b; drop }}"}) {
        INFO(bad);
        CHECK(config::find_placeholders(bad).error);
    }
    CHECK(config::inside_json_string(R"({"a": "x{{")", 8));
    CHECK_FALSE(config::inside_json_string(R"({"a": {{)", 6));
    CHECK_FALSE(config::inside_json_string(R"({"a": "\"", {{)", 12));
}

TEST_CASE("placeholders: values are encoded for where they land", "[etl][outputs]") {
    context_fixture f;
    auto ctx = f.make();
    ctx.upstream_outputs = {{"extract", {{"id", "a b/&\"x\"\n"}}}};
    ctx.params = {{"region", "eu"}};
    ctx.variables = {{"token", "t0k"}};
    auto url = etl::render_placeholders("http://h/p?id={{ output.extract.id }}&r={{param.region}}",
                                        ctx, etl::placeholder_encoding::url);
    REQUIRE(url.has_value());
    CHECK(*url == "http://h/p?id=a%20b%2F%26%22x%22%0A&r=eu");
    auto body =
        etl::render_placeholders(R"({"id": "{{ output.extract.id }}", "run": "{{ run_id }}"})", ctx,
                                 etl::placeholder_encoding::json);
    REQUIRE(body.has_value());
    CHECK(*body == R"({"id": "a b/&\"x\"\n", "run": "9"})");
    // A header value must not be able to start another header.
    auto header = etl::render_placeholders("Bearer {{ output.extract.id }}", ctx,
                                           etl::placeholder_encoding::header);
    CHECK_FALSE(header.has_value());
    header =
        etl::render_placeholders("Bearer {{ var.token }}", ctx, etl::placeholder_encoding::header);
    REQUIRE(header.has_value());
    CHECK(*header == "Bearer t0k");
    auto missing =
        etl::render_placeholders("{{ output.extract.nope }}", ctx, etl::placeholder_encoding::url);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().message.find("did not publish 'nope'") != std::string::npos);
    CHECK_FALSE(etl::render_placeholders("{{ var.absent }}", ctx, etl::placeholder_encoding::url)
                    .has_value());
}

TEST_CASE("output lines: only lines with the long prefix may pass the line bound",
          "[etl][outputs]") {
    std::vector<std::string> lines;
    etl::line_splitter splitter([&](std::string line) { lines.push_back(std::move(line)); }, 4,
                                "::o ", 8);
    splitter.feed("::o ab");
    splitter.feed("cd\nabcdefgh\n::o abcdefgh\n");
    splitter.finish();
    CHECK(lines == std::vector<std::string>{"::o abcd", "abcd", "efgh", "::o abcd", "efgh"});
}
