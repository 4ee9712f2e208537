// End-to-end: the CLI client commands (trigger, runs, logs, jobs, vars) against a real
// `sluice serve` on port 0, with viewer, operator and admin tokens.
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_daemon.hpp"
#include "process.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sluice::test;

namespace {

const std::string jobs_yaml = R"(
jobs:
  hello:
    params:
      who: {type: string, default: world}
    tasks:
      greet:
        type: shell
        command: 'echo "hello $SLUICE_PARAM_WHO"'
  breaks:
    tasks:
      fail:
        type: shell
        command: 'echo "about to fail"; exit 3'
      after:
        type: noop
        depends_on: [fail]
  slow:
    tasks:
      talk:
        type: shell
        command: 'echo "line 1"; sleep 1; echo "line 2"; sleep 0.3; echo "line 3"'
)";

struct token {
    std::string secret;
    std::string config_line;
};

token new_token(const std::string& name, const std::string& role) {
    auto r = run_sluice({"token", "new", name, "--role", role});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() >= 3);
    REQUIRE(out[0].starts_with("token: "));
    return {out[0].substr(7), out.back()};
}

// A daemon with three tokens; `sluice(...)` runs the CLI against it as one of them.
struct cli_fixture {
    token viewer = new_token("dash", "viewer");
    token op = new_token("ci", "operator");
    token admin = new_token("root", "admin");
    http_daemon daemon{"server:\n  listen: \"127.0.0.1:0\"\n  tokens:\n  " + viewer.config_line +
                       "\n  " + op.config_line + "\n  " + admin.config_line +
                       "\nstore:\n  url: \"sqlite://var/e2e.db\"\nshutdown_grace: 1s\n" +
                       jobs_yaml};

    std::string url() const { return "http://127.0.0.1:" + std::to_string(daemon.port()); }

    // With the token in SLUICE_TOKEN and the server in SLUICE_SERVER, as a script would.
    process_result as(const token& t, std::vector<std::string> args) const {
        return run_sluice(args, {"SLUICE_SERVER=" + url(), "SLUICE_TOKEN=" + t.secret});
    }
};

void check_no_token_printed(const process_result& r, const cli_fixture& f) {
    for (const auto* t : {&f.viewer, &f.op, &f.admin}) {
        CHECK(r.out.find(t->secret) == std::string::npos);
        CHECK(r.err.find(t->secret) == std::string::npos);
    }
}

}  // namespace

TEST_CASE("cli trigger --wait exits 0 when the run succeeded and 1 when it failed",
          "[e2e][cli-client]") {
    cli_fixture f;
    REQUIRE(f.daemon.port() != 0);

    auto ok = f.as(f.op, {"trigger", "hello", "--param", "who=cli", "--wait"});
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.out, Contains("job hello  success"));
    CHECK_THAT(ok.out, Contains("greet"));
    check_no_token_printed(ok, f);

    auto failed = f.as(f.op, {"trigger", "breaks", "--wait", "--output", "json"});
    INFO(failed.out << failed.err);
    CHECK(failed.exit_code == 1);
    const auto run = json::parse(failed.out);
    CHECK(run["state"] == "failed");
    CHECK(run["tasks"][0]["state"] == "failed");

    // Without --wait: the run id at once; --output json is the API's answer.
    auto queued = f.as(f.op, {"trigger", "hello", "--output", "json", "--idempotency-key", "k1"});
    REQUIRE(queued.exit_code == 0);
    const auto first = json::parse(queued.out);
    CHECK(first["created"] == true);
    auto again = f.as(f.op, {"trigger", "hello", "--idempotency-key", "k1"});
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Contains("run " + std::to_string(first["run_id"].get<int>()) +
                                   " of job hello exists"));

    // The --token-file flag wins over nothing in the environment.
    const auto token_file = f.daemon.dir() / "op.token";
    std::ofstream(token_file) << f.op.secret << "\n";
    auto from_file = run_sluice(
        {"trigger", "hello", "--server", f.url(), "--token-file", token_file.string(), "--wait"});
    INFO(from_file.err);
    CHECK(from_file.exit_code == 0);
}

TEST_CASE("cli errors: unknown job 3 and no token or viewer 4 and refused connection 5",
          "[e2e][cli-client]") {
    cli_fixture f;
    REQUIRE(f.daemon.port() != 0);

    auto unknown = f.as(f.op, {"trigger", "nope"});
    CHECK(unknown.exit_code == 3);
    CHECK_THAT(unknown.err, Contains("404 job_not_found"));

    auto bad_param = f.as(f.op, {"trigger", "hello", "--param", "nope=1"});
    CHECK(bad_param.exit_code == 3);
    CHECK_THAT(bad_param.err, Contains("bad_params"));

    auto malformed = f.as(f.op, {"trigger", "hello", "--param", "novalue"});
    CHECK(malformed.exit_code == 2);

    auto anonymous = run_sluice({"jobs", "list", "--server", f.url()});
    CHECK(anonymous.exit_code == 4);
    CHECK_THAT(anonymous.err, Contains("401"));
    CHECK_THAT(anonymous.err, Contains("SLUICE_TOKEN"));

    auto viewer = f.as(f.viewer, {"trigger", "hello"});
    CHECK(viewer.exit_code == 4);
    CHECK_THAT(viewer.err, Contains("403"));
    check_no_token_printed(viewer, f);

    auto wrong = run_sluice({"jobs", "list", "--server", f.url()}, {"SLUICE_TOKEN=sluice_nope"});
    CHECK(wrong.exit_code == 4);
    CHECK(wrong.err.find("sluice_nope") == std::string::npos);

    auto refused = run_sluice({"runs", "list", "--server", "http://127.0.0.1:1"});
    CHECK(refused.exit_code == 5);
    CHECK_THAT(refused.err, Contains("http://127.0.0.1:1"));

    auto bad_url = run_sluice({"jobs", "list", "--server", "ftp://x"});
    CHECK(bad_url.exit_code == 2);

    // The default address comes from the config's server.listen, which here is port 0.
    auto any_port = run_sluice({"jobs", "list", "-c", (f.daemon.dir() / "sluice.yaml").string()});
    CHECK(any_port.exit_code == 2);
    CHECK_THAT(any_port.err, Contains("listens on port 0"));
}

TEST_CASE("cli runs list --output json and runs show and retry and cancel over HTTP",
          "[e2e][cli-client]") {
    cli_fixture f;
    REQUIRE(f.daemon.port() != 0);
    REQUIRE(f.as(f.op, {"trigger", "hello", "--wait"}).exit_code == 0);
    REQUIRE(f.as(f.op, {"trigger", "breaks", "--wait"}).exit_code == 1);

    auto listed = f.as(f.viewer, {"runs", "list", "--output", "json"});
    INFO(listed.err);
    REQUIRE(listed.exit_code == 0);
    const auto page = json::parse(listed.out);
    REQUIRE(page["runs"].size() == 2);
    CHECK(page["runs"][0]["job"] == "breaks");
    CHECK(page["runs"][0]["state"] == "failed");
    CHECK(page["runs"][1]["state"] == "success");
    const auto failed_id = page["runs"][0]["id"].get<std::int64_t>();

    auto only_failed = f.as(f.viewer, {"runs", "list", "--state", "failed"});
    REQUIRE(only_failed.exit_code == 0);
    const auto table = lines(only_failed.out);
    REQUIRE(table.size() == 2);
    CHECK_THAT(table[0], Contains("ID"));
    CHECK_THAT(table[1], Contains("breaks"));

    auto shown = f.as(f.viewer, {"runs", "show", std::to_string(failed_id)});
    REQUIRE(shown.exit_code == 0);
    CHECK_THAT(shown.out, Contains("fail"));
    CHECK_THAT(shown.out, Contains("upstream_failed"));

    auto retried = f.as(f.op, {"runs", "retry", std::to_string(failed_id)});
    INFO(retried.err);
    CHECK(retried.exit_code == 0);
    CHECK_THAT(retried.out, Contains("retry requested"));

    // Cancel of a missing run is refused with the server's reason.
    auto missing = f.as(f.op, {"runs", "cancel", "999999"});
    CHECK(missing.exit_code == 3);
    CHECK_THAT(missing.err, Contains("404"));

    // -c without --server still reads the store directly (works with the daemon down, too).
    f.daemon.stop();
    auto direct = run_sluice(
        {"runs", "list", "-c", (f.daemon.dir() / "sluice.yaml").string(), "--output", "json"});
    INFO(direct.err);
    REQUIRE(direct.exit_code == 0);
    CHECK(json::parse(direct.out)["runs"].size() == 2);
}

TEST_CASE("cli logs -f streams a running task's lines until it ends", "[e2e][cli-client]") {
    cli_fixture f;
    REQUIRE(f.daemon.port() != 0);
    auto started = f.as(f.op, {"trigger", "slow", "--output", "json"});
    REQUIRE(started.exit_code == 0);
    const auto run = std::to_string(json::parse(started.out)["run_id"].get<int>());

    auto followed = f.as(f.viewer, {"logs", run, "talk", "-f"});
    INFO(followed.err);
    CHECK(followed.exit_code == 0);
    CHECK(followed.out == "line 1\nline 2\nline 3\n");
    CHECK_THAT(followed.err, Contains("ended: success"));

    auto whole = f.as(f.viewer, {"logs", run, "talk"});
    CHECK(whole.exit_code == 0);
    CHECK(whole.out == "line 1\nline 2\nline 3\n");

    auto missing = f.as(f.viewer, {"logs", run, "nope", "-f"});
    CHECK(missing.exit_code == 3);
}

TEST_CASE("cli jobs pause and unpause and a paused job refuses triggers", "[e2e][cli-client]") {
    cli_fixture f;
    REQUIRE(f.daemon.port() != 0);
    CHECK(f.as(f.viewer, {"jobs", "pause", "hello"}).exit_code == 4);
    auto paused = f.as(f.op, {"jobs", "pause", "hello"});
    CHECK(paused.exit_code == 0);
    CHECK(paused.out == "job hello paused\n");

    auto listed = f.as(f.viewer, {"jobs", "list", "--output", "json"});
    REQUIRE(listed.exit_code == 0);
    const auto jobs = json::parse(listed.out)["jobs"];
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[0]["name"] == "hello");
    CHECK(jobs[0]["paused"] == true);
    CHECK(jobs[1]["paused"] == false);

    auto refused = f.as(f.op, {"trigger", "hello"});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Contains("409 job_paused"));

    CHECK(f.as(f.op, {"jobs", "unpause", "hello"}).exit_code == 0);
    auto table = f.as(f.viewer, {"jobs", "list"});
    CHECK_THAT(table.out, Contains("NAME"));
    CHECK(f.as(f.op, {"trigger", "hello", "--wait"}).exit_code == 0);
}

TEST_CASE("cli vars need an admin token and secrets are write-only", "[e2e][cli-client]") {
    cli_fixture f;
    REQUIRE(f.daemon.port() != 0);
    auto viewer = f.as(f.viewer, {"vars", "set", "region", "eu"});
    CHECK(viewer.exit_code == 4);
    CHECK_THAT(viewer.err, Contains("403"));
    CHECK(f.as(f.op, {"vars", "get", "region"}).exit_code == 4);

    CHECK(f.as(f.admin, {"vars", "set", "region", "eu-west"}).exit_code == 0);
    auto got = f.as(f.admin, {"vars", "get", "region"});
    CHECK(got.exit_code == 0);
    CHECK(got.out == "eu-west\n");
    auto as_json = f.as(f.admin, {"vars", "get", "region", "--output", "json"});
    CHECK(json::parse(as_json.out)["value"] == "eu-west");

    CHECK(f.as(f.admin, {"vars", "set", "pw", "hunter2", "--secret"}).exit_code == 0);
    auto secret = f.as(f.admin, {"vars", "get", "pw", "--output", "json"});
    CHECK(secret.exit_code == 0);
    CHECK(secret.out.find("hunter2") == std::string::npos);
    CHECK(json::parse(secret.out)["value"].is_null());

    CHECK(f.as(f.admin, {"vars", "rm", "region"}).exit_code == 0);
    auto gone = f.as(f.admin, {"vars", "get", "region"});
    CHECK(gone.exit_code == 3);
    CHECK_THAT(gone.err, Contains("404"));
}
