// A shell task's environment is built, not inherited (docs/task-kinds.md#environment): the
// daemon's own variables, which hold the configuration's ${env:...} passwords, stay out, and a
// secret store variable reaches only the task that names it.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "etl/shell_task.hpp"
#include "tests/component/etl/attempt_fixture.hpp"

using namespace sluice;
using status = scheduler::task_outcome::status;
using stream = scheduler::output_line::stream;

namespace {

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

// Sets a variable of this process for one test, restoring what was there.
struct scoped_env {
    std::string name;
    std::optional<std::string> before;
    scoped_env(std::string n, const std::string& value) : name(std::move(n)) {
        if (const char* v = std::getenv(name.c_str())) {
            before = v;
        }
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~scoped_env() {
        if (before) {
            ::setenv(name.c_str(), before->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
};

}  // namespace

TEST_CASE("shell: a task gets the base variables and inherit_env, not the daemon's passwords",
          "[etl][shell][environment]") {
    const scoped_env password("WAREHOUSE_PASSWORD", "hunter2-never-in-a-task");
    const scoped_env region("AWS_REGION", "eu-west-1");
    const scoped_env near_miss("AWSREGION", "not-inherited");
    const scoped_env home("HOME", "/var/lib/sluice-test");
    test::attempt_fixture f(
        "jobs:\n  j:\n    inherit_env: [AWS_*]\n    tasks:\n      t:\n        type: shell\n"
        "        command: env\n        env: {REGION: eu, HOME: /override}\n");
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    const auto lines = f.texts(stream::out);
    CHECK_FALSE(any_contains(lines, "hunter2"));
    CHECK_FALSE(any_contains(lines, "WAREHOUSE_PASSWORD"));
    CHECK_FALSE(any_contains(lines, "AWSREGION"));
    CHECK(has_line(lines, "AWS_REGION=eu-west-1"));
    CHECK(has_line(lines, "REGION=eu"));
    CHECK(has_line(lines, "HOME=/override"));  // the task's env wins over the base
    CHECK(has_line(lines, "SLUICE_JOB=j"));
    CHECK(std::any_of(lines.begin(), lines.end(),
                      [](const std::string& l) { return l.rfind("PATH=", 0) == 0; }));
}

TEST_CASE("shell: a secret variable reaches only the task that names it in secrets",
          "[etl][shell][environment]") {
    const std::string yaml_plain =
        "jobs:\n  j:\n    tasks:\n      t: {type: shell, command: env}\n";
    test::attempt_fixture plain(yaml_plain);
    plain.context().variables = {{"bucket", "s3://b"}, {"api.token", "tok-123"}};
    plain.context().secret_variables = {"api.token"};
    etl::shell_task runner;
    REQUIRE(plain.run(runner).result == status::success);
    CHECK(has_line(plain.texts(stream::out), "SLUICE_VAR_BUCKET=s3://b"));
    CHECK_FALSE(any_contains(plain.texts(stream::out), "tok-123"));

    test::attempt_fixture named(
        "jobs:\n  j:\n    tasks:\n      t: {type: shell, command: env, secrets: [api.token]}\n");
    named.context().variables = plain.context().variables;
    named.context().secret_variables = {"api.token"};
    REQUIRE(named.run(runner).result == status::success);
    CHECK(has_line(named.texts(stream::out), "SLUICE_VAR_API_TOKEN=tok-123"));
    CHECK(has_line(named.texts(stream::out), "SLUICE_VAR_BUCKET=s3://b"));

    // Naming a variable the store does not have fails before the command starts.
    test::attempt_fixture missing(
        "jobs:\n  j:\n    tasks:\n      t: {type: shell, command: echo ran, secrets: [nope]}\n");
    const auto outcome = missing.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::permanent);
    CHECK(outcome.message.find("the variable 'nope' named in 'secrets' does not exist") == 0);
    CHECK(missing.texts(stream::out).empty());
}
