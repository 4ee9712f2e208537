#include "etl/shell_task.hpp"

#include <chrono>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/component/etl/attempt_fixture.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using status = scheduler::task_outcome::status;
using stream = scheduler::output_line::stream;

namespace {

// A job "j" with one shell task "t": `body` holds the task's keys besides its type, indented
// by 8 spaces.
std::string shell_yaml(const std::string& body) {
    return "jobs:\n  j:\n    tasks:\n      t:\n        type: shell\n" + body;
}

// `command: |` with the script's lines indented under it.
std::string command(const std::string& script, const std::string& more = "") {
    std::string out = "        command: |\n";
    std::istringstream lines(script);
    for (std::string line; std::getline(lines, line);) {
        out += "          " + line + "\n";
    }
    return out + more;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Waits up to `limit` for a file to hold a full line and returns its first line.
std::string wait_for_line(const std::filesystem::path& path, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        const std::string text = read_file(path);
        if (text.find('\n') != std::string::npos) {
            return text.substr(0, text.find('\n'));
        }
        std::this_thread::sleep_for(10ms);
    }
    return "";
}

bool wait_until_dead(int pid, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (test::process_alive(pid)) {
        if (std::chrono::steady_clock::now() >= until) {
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

}  // namespace

TEST_CASE("shell: every task receives the SLUICE_ environment values", "[etl][shell]") {
    test::attempt_fixture f(
        shell_yaml(command("env | grep '^SLUICE_' | grep -v '^SLUICE_TEST_' | sort")));
    auto& ctx = f.context();
    ctx.try_number = 3;
    ctx.logical_time = std::chrono::sys_seconds{std::chrono::sys_days{2026y / 3 / 29}} + 1h;
    ctx.data_interval_start = std::chrono::sys_seconds{std::chrono::sys_days{2026y / 3 / 28}};
    ctx.data_interval_end = std::chrono::sys_seconds{std::chrono::sys_days{2026y / 3 / 29}};
    ctx.params = {{"batch-size", "500"}, {"region", "eu west"}};
    ctx.variables = {{"api.base", "https://x"}};
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(outcome.exit_code == 0);
    CHECK(f.texts(stream::out) == std::vector<std::string>{
                                      "SLUICE_DATA_INTERVAL_END=2026-03-29T00:00:00Z",
                                      "SLUICE_DATA_INTERVAL_START=2026-03-28T00:00:00Z",
                                      "SLUICE_JOB=j",
                                      "SLUICE_LOGICAL_TIME=2026-03-29T01:00:00Z",
                                      "SLUICE_PARAM_BATCH_SIZE=500",
                                      "SLUICE_PARAM_REGION=eu west",
                                      "SLUICE_RUN_ID=42",
                                      "SLUICE_TASK=t",
                                      "SLUICE_TRY_NUMBER=3",
                                      "SLUICE_VAR_API_BASE=https://x",
                                  });
}

TEST_CASE("shell: unset times are present and empty and env adds variables", "[etl][shell]") {
    test::attempt_fixture f(shell_yaml(
        command("echo \"[$SLUICE_LOGICAL_TIME][${SLUICE_DATA_INTERVAL_START-unset}][$GREETING]\"",
                "        env: {GREETING: hello world}\n")));
    etl::shell_task runner;
    REQUIRE(f.run(runner).result == status::success);
    CHECK(f.texts(stream::out) == std::vector<std::string>{"[][][hello world]"});
}

TEST_CASE("shell: argv runs directly in cwd relative to the config directory", "[etl][shell]") {
    test::attempt_fixture f(shell_yaml("        argv: [pwd]\n        cwd: work/dir\n"));
    std::filesystem::create_directories(f.base_dir() / "work/dir");
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(f.texts(stream::out) ==
          std::vector<std::string>{std::filesystem::canonical(f.base_dir() / "work/dir")});
}

TEST_CASE("shell: argv is not interpreted by a shell", "[etl][shell]") {
    test::attempt_fixture f(shell_yaml("        argv: [printf, '%s|', 'a b', '$HOME', '*']\n"));
    etl::shell_task runner;
    REQUIRE(f.run(runner).result == status::success);
    CHECK(f.texts(stream::out) == std::vector<std::string>{"a b|$HOME|*|"});
}

TEST_CASE("shell: a missing cwd or program is a permanent failure", "[etl][shell]") {
    etl::shell_task runner;
    {
        test::attempt_fixture f(shell_yaml("        argv: [pwd]\n        cwd: nowhere\n"));
        const auto outcome = f.run(runner);
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK_THAT(outcome.message, Catch::Contains("nowhere"));
    }
    {
        test::attempt_fixture f(shell_yaml("        argv: [no-such-program-sluice]\n"));
        const auto outcome = f.run(runner);
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK_THAT(outcome.message, Catch::Contains("no-such-program-sluice"));
    }
}

TEST_CASE("shell: stdout and stderr are captured line by line in order", "[etl][shell]") {
    test::attempt_fixture f(
        shell_yaml(command("for i in 1 2 3; do echo out$i; echo err$i >&2; done\n"
                           "printf 'crlf\\r\\n'\n"
                           "printf 'no newline at end'")));
    etl::shell_task runner;
    const auto before = std::chrono::system_clock::now();
    REQUIRE(f.run(runner).result == status::success);
    CHECK(f.texts(stream::out) ==
          std::vector<std::string>{"out1", "out2", "out3", "crlf", "no newline at end"});
    CHECK(f.texts(stream::err) == std::vector<std::string>{"err1", "err2", "err3"});
    for (const auto& line : f.lines()) {
        CHECK(line.at >= before);
        CHECK(line.at <= std::chrono::system_clock::now());
    }
}

TEST_CASE("shell: metric lines record metrics and stay in the log", "[etl][shell]") {
    test::attempt_fixture f(
        shell_yaml(command("echo '::sluice metric record_count=1250'\n"
                           "echo '::sluice metric lag.seconds=-0.5' >&2\n"
                           "echo '::sluice metric broken=abc'\n"
                           "echo 'not a ::sluice metric x=1'")));
    etl::shell_task runner;
    REQUIRE(f.run(runner).result == status::success);
    CHECK(f.metrics() == std::vector<std::pair<std::string, double>>{{"record_count", 1250.0},
                                                                     {"lag.seconds", -0.5}});
    CHECK(f.texts(stream::out) == std::vector<std::string>{"::sluice metric record_count=1250",
                                                           "::sluice metric broken=abc",
                                                           "not a ::sluice metric x=1"});
    const auto system = f.texts(stream::system);
    REQUIRE(system.size() == 1);
    CHECK_THAT(system[0], Catch::Contains("malformed metric line"));
}

TEST_CASE("shell: a very long line is split at the line bound", "[etl][shell]") {
    test::attempt_fixture f(shell_yaml(command("head -c 150000 /dev/zero | tr '\\0' x; echo")));
    etl::shell_task runner;
    REQUIRE(f.run(runner).result == status::success);
    const auto out = f.texts(stream::out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].size() == 65536);
    CHECK(out[1].size() == 65536);
    CHECK(out[2].size() == 150000 - 2 * 65536);
}

TEST_CASE("shell: a non-zero exit is transient unless retry_on_exit_codes says otherwise",
          "[etl][shell]") {
    etl::shell_task runner;
    {
        test::attempt_fixture f(shell_yaml(command("exit 3")));
        const auto outcome = f.run(runner);
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::transient);
        CHECK(outcome.exit_code == 3);
        CHECK_THAT(outcome.message, Catch::Contains("exited with code 3"));
    }
    {
        test::attempt_fixture f(
            shell_yaml(command("exit 3", "        retry_on_exit_codes: [4, 75]\n")));
        const auto outcome = f.run(runner);
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::permanent);
        CHECK(outcome.exit_code == 3);
    }
    {
        test::attempt_fixture f(
            shell_yaml(command("exit 75", "        retry_on_exit_codes: [4, 75]\n")));
        const auto outcome = f.run(runner);
        CHECK(outcome.result == status::failed);
        CHECK(outcome.error_class == core::error_class::transient);
        CHECK(outcome.exit_code == 75);
    }
}

TEST_CASE("shell: death by a signal is a transient failure naming the signal", "[etl][shell]") {
    test::attempt_fixture f(shell_yaml(command("kill -SEGV $$")));
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::failed);
    CHECK(outcome.error_class == core::error_class::transient);
    CHECK_THAT(outcome.message, Catch::Contains("SIGSEGV"));
}

TEST_CASE(
    "shell: a timeout kills a child that ignores SIGTERM and its grandchildren after the "
    "grace period",
    "[etl][shell]") {
    test::attempt_fixture f(
        shell_yaml(command("trap '' TERM\nsleep 60 &\necho $! > grandchild.pid\necho started\nwait",
                           "        kill_grace: 1s\n        cwd: .\n")));
    f.context().deadline = std::chrono::system_clock::now() + 300ms;
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    CHECK(outcome.result == status::timed_out);
    CHECK_THAT(outcome.message, Catch::Contains("SIGKILL"));
    CHECK(f.elapsed() >= 1200ms);
    CHECK(f.elapsed() < 8s);
    CHECK(f.texts(stream::out) == std::vector<std::string>{"started"});
    const int grandchild = std::stoi(read_file(f.base_dir() / "grandchild.pid"));
    CHECK(wait_until_dead(grandchild, 2s));
}

TEST_CASE("shell: a child that honours SIGTERM stops without waiting for the grace period",
          "[etl][shell]") {
    test::attempt_fixture f(shell_yaml(command("sleep 60", "        kill_grace: 30s\n")));
    f.context().deadline = std::chrono::system_clock::now() + 200ms;
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::timed_out);
    CHECK(f.elapsed() < 10s);
}

TEST_CASE("shell: cancel stops a running attempt", "[etl][shell]") {
    test::attempt_fixture f(
        shell_yaml(command("echo $$ > child.pid\nexec sleep 60", "        cwd: .\n")));
    std::thread canceler([&] {
        wait_for_line(f.base_dir() / "child.pid", 5s);
        f.stop().request(scheduler::stop_signal::reason::canceled);
    });
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    canceler.join();
    CHECK(outcome.result == status::canceled);
    CHECK(f.elapsed() < 10s);
    const int child = std::stoi(read_file(f.base_dir() / "child.pid"));
    CHECK_FALSE(test::process_alive(child));
}

TEST_CASE("shell: an attempt stopped before it starts runs nothing", "[etl][shell]") {
    test::attempt_fixture f(shell_yaml(command("touch ran", "        cwd: .\n")));
    f.stop().request(scheduler::stop_signal::reason::shutdown);
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    CHECK(outcome.result == status::canceled);
    CHECK_FALSE(std::filesystem::exists(f.base_dir() / "ran"));
}

TEST_CASE("shell: background processes left by a finished command are killed", "[etl][shell]") {
    test::attempt_fixture f(shell_yaml(
        command("sleep 60 > /dev/null 2>&1 &\necho $! > leftover.pid", "        cwd: .\n")));
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    REQUIRE(outcome.result == status::success);
    const int leftover = std::stoi(read_file(f.base_dir() / "leftover.pid"));
    CHECK(wait_until_dead(leftover, 2s));
}

TEST_CASE("shell: children die with the daemon (PR_SET_PDEATHSIG)", "[etl][shell]") {
    test::attempt_fixture f(
        shell_yaml(command("echo $$ > child.pid\nexec sleep 60", "        cwd: .\n")));
    // A stand-in daemon: a forked copy of this test runs the attempt and is killed with -9.
    const pid_t daemon = ::fork();
    REQUIRE(daemon >= 0);
    if (daemon == 0) {
        etl::shell_task runner;
        runner.run(f.context());
        ::_exit(0);
    }
    const std::string line = wait_for_line(f.base_dir() / "child.pid", 5s);
    REQUIRE_FALSE(line.empty());
    const int child = std::stoi(line);
    CHECK(test::process_alive(child));
    ::kill(daemon, SIGKILL);
    int wstatus = 0;
    ::waitpid(daemon, &wstatus, 0);
    CHECK(wait_until_dead(child, 5s));
}

// Regression: PR_SET_PDEATHSIG reaches only the direct child, so before the keeper process a
// grandchild (the `sleep` of `sh -c "sleep 60 & wait"`) outlived a killed daemon and could
// overlap the retried attempt.
TEST_CASE("shell: grandchildren die with the daemon too", "[etl][shell]") {
    test::attempt_fixture f(
        shell_yaml(command("sleep 60 &\necho $! > grandchild.pid\nwait", "        cwd: .\n")));
    const pid_t daemon = ::fork();
    REQUIRE(daemon >= 0);
    if (daemon == 0) {
        etl::shell_task runner;
        runner.run(f.context());
        ::_exit(0);
    }
    const std::string line = wait_for_line(f.base_dir() / "grandchild.pid", 5s);
    REQUIRE_FALSE(line.empty());
    const int grandchild = std::stoi(line);
    CHECK(test::process_alive(grandchild));
    ::kill(daemon, SIGKILL);
    int wstatus = 0;
    ::waitpid(daemon, &wstatus, 0);
    CHECK(wait_until_dead(grandchild, 5s));
}
