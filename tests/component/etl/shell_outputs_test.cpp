// `::sluice output NAME=VALUE` lines of real child processes and the upstream outputs a shell
// task receives (docs/task-kinds.md#values-between-tasks).

#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "config/task_outputs.hpp"
#include "etl/shell_task.hpp"
#include "tests/component/etl/attempt_fixture.hpp"

using namespace sluice;
using status = scheduler::task_outcome::status;
using stream = scheduler::output_line::stream;

namespace {

// A job "j" with one shell task "t" running `script`.
std::string shell_yaml(const std::string& script) {
    std::string out =
        "jobs:\n  j:\n    tasks:\n      t:\n        type: shell\n        command: |\n";
    std::istringstream lines(script);
    for (std::string line; std::getline(lines, line);) {
        out += "          " + line + "\n";
    }
    return out;
}

scheduler::task_outcome run(test::attempt_fixture& f) {
    etl::shell_task runner;
    auto outcome = f.run(runner);
    INFO(outcome.message);
    return outcome;
}

}  // namespace

TEST_CASE("shell outputs: output lines on either stream are published and logged",
          "[etl][shell][outputs]") {
    test::attempt_fixture f(
        shell_yaml("echo '::sluice output batch_id=41'\n"
                   "echo '  ::sluice output path=s3://b/k=v x' >&2\n"
                   "echo '::sluice output batch_id=42'\n"
                   "echo '::sluice output empty='\n"
                   "echo 'not ::sluice output x=1'"));
    const auto outcome = run(f);
    REQUIRE(outcome.result == status::success);
    // A later value of a name replaces the earlier one (the two streams are read side by side,
    // so their lines interleave in no fixed order).
    const std::map<std::string, std::string> published(outcome.outputs.begin(),
                                                       outcome.outputs.end());
    CHECK(outcome.outputs.size() == 3);
    CHECK(published == std::map<std::string, std::string>{
                           {"batch_id", "42"}, {"path", "s3://b/k=v x"}, {"empty", ""}});
    // The lines stay in the log as written.
    CHECK(f.texts(stream::out) ==
          std::vector<std::string>{"::sluice output batch_id=41", "::sluice output batch_id=42",
                                   "::sluice output empty=", "not ::sluice output x=1"});
    CHECK(f.texts(stream::err) == std::vector<std::string>{"  ::sluice output path=s3://b/k=v x"});
}

TEST_CASE("shell outputs: a value at the bound arrives whole", "[etl][shell][outputs]") {
    test::attempt_fixture f(shell_yaml("printf '::sluice output big=%s\\n' \"$(head -c " +
                                       std::to_string(config::max_output_value_bytes) +
                                       " /dev/zero | tr '\\0' v)\""));
    const auto outcome = run(f);
    REQUIRE(outcome.result == status::success);
    REQUIRE(outcome.outputs.size() == 1);
    CHECK(outcome.outputs[0].second == std::string(config::max_output_value_bytes, 'v'));
}

TEST_CASE("shell outputs: beyond a bound or malformed, the task fails and publishes nothing",
          "[etl][shell][outputs]") {
    const auto fails = [](const std::string& script, const std::string& expected) {
        test::attempt_fixture f(shell_yaml(script));
        const auto outcome = run(f);
        INFO(script);
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK(outcome.exit_code == 0);
        CHECK_THAT(outcome.message, Catch::Contains("exited 0, but") && Catch::Contains(expected) &&
                                        Catch::Contains("not retried"));
        CHECK(outcome.outputs.empty());
    };
    fails("printf '::sluice output big=%s\\n' \"$(head -c " +
              std::to_string(config::max_output_value_bytes + 1) + " /dev/zero | tr '\\0' v)\"",
          "output 'big' is longer than 65536 bytes");
    fails("for i in $(seq 1 65); do echo \"::sluice output n$i=$i\"; done",
          "the task published more than 64 outputs");
    fails("echo '::sluice output bad-name=1'", "invalid output name 'bad-name'");
    fails("echo '::sluice output novalue'", "malformed output line");

    // A failed task publishes nothing, whatever it printed.
    test::attempt_fixture f(shell_yaml("echo '::sluice output x=1'\nexit 3"));
    const auto outcome = run(f);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.outputs.empty());
}

TEST_CASE("shell outputs: upstream outputs arrive as SLUICE_OUTPUT_ variables",
          "[etl][shell][outputs]") {
    test::attempt_fixture f(shell_yaml("env | grep '^SLUICE_OUTPUT_' | sort"));
    f.context().upstream_outputs = {{"ex-tract", {{"batch_id", "42"}, {"Path", "a b"}}},
                                    {"sum", {{"total", "7"}}}};
    const auto outcome = run(f);
    REQUIRE(outcome.result == status::success);
    CHECK(f.texts(stream::out) == std::vector<std::string>{"SLUICE_OUTPUT_EX_TRACT_BATCH_ID=42",
                                                           "SLUICE_OUTPUT_EX_TRACT_PATH=a b",
                                                           "SLUICE_OUTPUT_SUM_TOTAL=7"});
}
