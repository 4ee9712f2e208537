// End-to-end: `sluice serve` as a real process on both stores, killed with -9, stopped with
// SIGTERM, and left to fire an every-second schedule; observed only through what a user sees
// (files the tasks write, `sluice runs` output and the exit code).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <date/date.h>
#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "daemon_process.hpp"
#include "manual_trigger.hpp"
#include "process.hpp"
#include "store/open_store.hpp"
#include "tests/component/store/test_databases.hpp"

using namespace std::chrono_literals;
using sluice::test::complete_lines;
using sluice::test::daemon_process;
using sluice::test::postgres_database;
using sluice::test::run_sluice;
using sluice::test::sqlite_database;
using sluice::test::temp_dir;
using sluice::test::trigger_when_ready;

namespace {

std::filesystem::path write_config(const temp_dir& dir, const std::string& store_url,
                                   const std::string& rest) {
    const auto file = dir.path() / "sluice.yaml";
    std::ofstream out(file);
    // Port 0: tests run in parallel, and a developer's daemon may hold the default port.
    out << "server: {listen: \"127.0.0.1:0\"}\nstore: {url: \"" << store_url << "\"}\n" << rest;
    return file;
}

nlohmann::json runs_list(const std::filesystem::path& config) {
    auto r =
        run_sluice({"runs", "list", "-c", config.string(), "--output", "json", "--limit", "1000"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out).at("runs");
}

nlohmann::json run_show(const std::filesystem::path& config, std::int64_t id) {
    auto r =
        run_sluice({"runs", "show", "-c", config.string(), std::to_string(id), "--output", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

// Waits until the store holds a run of `job` in a finished state; returns it (or null).
nlohmann::json wait_finished_run(const std::filesystem::path& config, const std::string& job,
                                 std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        for (const auto& run : runs_list(config)) {
            const std::string state = run.at("state");
            if (run.at("job") == job && state != "queued" && state != "running") {
                return run;
            }
        }
        std::this_thread::sleep_for(200ms);
    }
    return nullptr;
}

// Waits until `file` holds more than `seen` complete lines and one of the new ones starts with
// `prefix`; returns the number of lines then, or nullopt after `limit`.
std::optional<std::size_t> wait_for_mark(const std::filesystem::path& file, std::size_t seen,
                                         const std::string& prefix,
                                         std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        const auto lines = complete_lines(file);
        for (std::size_t i = seen; i < lines.size(); ++i) {
            if (lines[i].rfind(prefix, 0) == 0) {
                return lines.size();
            }
        }
        std::this_thread::sleep_for(2ms);
    }
    return std::nullopt;
}

// The daemon writes its port beside its configuration (trigger_when_ready reads it).
std::filesystem::path port_file(const std::filesystem::path& config) {
    return config.parent_path() / "port";
}

std::vector<std::string> serve_args(const std::filesystem::path& config) {
    return sluice::test::serve_args_with_port(config, port_file(config));
}

struct mark {
    std::string what;  // start | done
    std::string task;
    int try_number = 0;
};

std::vector<mark> parse_marks(const std::filesystem::path& file) {
    std::vector<mark> out;
    for (const auto& line : complete_lines(file)) {
        std::istringstream in(line);
        mark m;
        in >> m.what >> m.task >> m.try_number;
        out.push_back(m);
    }
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("serve survives kill -9 at 20+ moments of a 10-task run", "[e2e][serve][kill]",
                   sqlite_database, postgres_database) {
    TestType db;
    temp_dir dir;
    const auto marks = dir.path() / "marks";
    constexpr int task_count = 10;
    constexpr int wanted_kills = 22;
    // Each attempt writes `start TASK TRY`, works 400 ms, then writes `done TASK TRY`.
    std::string yaml =
        "defaults:\n  retries: {max_attempts: 50, delay: 50ms, backoff: 1}\n"
        "jobs:\n  ten:\n    tasks:\n";
    for (int i = 1; i <= task_count; ++i) {
        const std::string name = "t" + std::to_string(100 + i).substr(1);
        yaml += "      " + name + ":\n        type: shell\n        command: |\n";
        yaml += "          echo \"start $SLUICE_TASK $SLUICE_TRY_NUMBER\" >> " + marks.string() +
                "\n          sleep 0.4\n          echo \"done $SLUICE_TASK $SLUICE_TRY_NUMBER\" "
                ">> " +
                marks.string() + "\n";
        if (i > 1) {
            yaml += "        depends_on: [t" + std::to_string(100 + i - 1).substr(1) + "]\n";
        }
    }
    const auto config = write_config(dir, db.url(), yaml);
    const auto log = dir.path() / "serve.log";

    const auto seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    auto daemon = std::make_unique<daemon_process>(serve_args(config), log);
    trigger_when_ready(port_file(config), "ten");
    auto seen = wait_for_mark(marks, 0, "start", 15s);
    INFO(daemon->output());
    REQUIRE(seen);

    // Kill moments are random offsets after a task starts (the attempt is in flight) or after
    // one writes its last line (its result is being committed and the next task dispatched).
    // Only done-anchored kills let the run advance, so they are rationed to get 20+ kills.
    int kills = 0;
    std::uniform_int_distribution<int> offset_ms(0, 250);
    std::bernoulli_distribution pick_done(0.5);
    while (kills < wanted_kills) {
        int done_tasks = 0;
        for (const auto& m : parse_marks(marks)) {
            done_tasks += m.what == "done" ? 1 : 0;
        }
        const bool may_advance = wanted_kills - kills < task_count - done_tasks;
        const std::string anchor = may_advance && pick_done(rng) ? "done" : "start";
        const auto lines_now = complete_lines(marks).size();
        // Generous: a restarted daemon recovers and dispatches slowly on a loaded machine.
        auto next = wait_for_mark(marks, lines_now, anchor, 30s);
        if (!next) {
            break;  // the run ended: nothing more starts
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(offset_ms(rng)));
        daemon->signal(SIGKILL);
        REQUIRE(daemon->wait_exit(10s) == 128 + SIGKILL);
        ++kills;
        daemon = std::make_unique<daemon_process>(serve_args(config), log);
    }
    const auto finished = wait_finished_run(config, "ten", 60s);
    daemon->signal(SIGTERM);
    CHECK(daemon->wait_exit(30s) == 0);
    INFO(daemon->output());
    CHECK(kills >= 20);
    REQUIRE(finished.is_object());
    CHECK(finished.at("state") == "success");

    const auto shown = run_show(config, finished.at("id"));
    std::map<std::string, int> stored_try;
    for (const auto& t : shown.at("tasks")) {
        CHECK(t.at("state") == "success");
        stored_try[t.at("task")] = t.at("try_number");
    }
    REQUIRE(stored_try.size() == static_cast<std::size_t>(task_count));

    const auto all = parse_marks(marks);
    int reruns = 0;
    for (const auto& [task, last_try] : stored_try) {
        INFO("task " << task);
        std::vector<int> starts;
        bool last_try_done = false;
        for (const auto& m : all) {
            if (m.task == task && m.what == "start") {
                starts.push_back(m.try_number);
            }
            if (m.task == task && m.what == "done" && m.try_number == last_try) {
                last_try_done = true;
            }
        }
        // Every start was a recorded attempt and no try number was reused: strictly increasing
        // tries ending at the stored one. A try may be missing: the kill can land after its
        // start was committed but before its shell wrote the first line.
        REQUIRE_FALSE(starts.empty());
        CHECK(std::adjacent_find(starts.begin(), starts.end(), std::greater_equal<>()) ==
              starts.end());
        CHECK(starts.front() >= 1);
        CHECK(starts.back() == last_try);
        CHECK(last_try_done);
        reruns += last_try - 1;
    }
    // A finished task never runs again: in a chain no task starts once its successor started.
    std::map<std::string, std::size_t> first_start;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].what == "start") {
            first_start.try_emplace(all[i].task, i);
        }
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].what != "start" || all[i].task == "t10") {
            continue;
        }
        const int n = std::stoi(all[i].task.substr(1));
        const std::string successor = "t" + std::to_string(100 + n + 1).substr(1);
        if (auto it = first_start.find(successor); it != first_start.end()) {
            INFO("start of " << all[i].task << " try " << all[i].try_number);
            CHECK(i < it->second);
        }
    }
    // Only the attempt in flight at a kill ran again: at most one rerun per kill.
    INFO("kills " << kills << ", reruns " << reruns);
    CHECK(reruns <= kills);
    CHECK(reruns >= 1);
}

TEMPLATE_TEST_CASE("serve fires an every-second schedule for 30 s without a duplicate or a gap",
                   "[e2e][serve][schedule]", sqlite_database, postgres_database) {
    TestType db;
    temp_dir dir;
    const auto config = write_config(dir, db.url(),
                                     "jobs:\n  tick:\n    schedule: \"* * * * * *\"\n"
                                     "    catchup: none\n    tasks:\n      t: {type: noop}\n");
    const auto started = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    daemon_process daemon(serve_args(config), dir.path() / "serve.log");
    // The 30 s count from when the daemon serves: its start may take seconds on a loaded machine.
    for (int i = 0; i < 3000 && daemon.output().find("sluice serving") == std::string::npos; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(30s);
    daemon.signal(SIGTERM);
    REQUIRE(daemon.wait_exit(30s) == 0);
    const auto stopped = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now());
    INFO(daemon.output());

    std::vector<std::chrono::sys_seconds> ticks;
    for (const auto& run : runs_list(config)) {
        CHECK(run.at("job") == "tick");
        CHECK(run.at("trigger") == "scheduled");
        CHECK(run.at("state") == "success");
        const std::string logical_time = run.at("logical_time");
        auto at = sluice::core::parse_rfc3339(logical_time);
        REQUIRE(at.has_value());
        ticks.push_back(*at);
    }
    std::sort(ticks.begin(), ticks.end());
    CHECK(ticks.size() >= 28);
    CHECK(std::adjacent_find(ticks.begin(), ticks.end()) == ticks.end());
    for (std::size_t i = 1; i < ticks.size(); ++i) {
        INFO("gap after " << sluice::core::format_rfc3339_utc(ticks[i - 1]));
        CHECK(ticks[i] - ticks[i - 1] == 1s);
    }
    REQUIRE_FALSE(ticks.empty());
    CHECK(ticks.front() >= started);
    CHECK(ticks.back() <= stopped);
}

TEMPLATE_TEST_CASE("serve drains on SIGTERM and kills a task that ignores it after the grace",
                   "[e2e][serve][shutdown]", sqlite_database, postgres_database) {
    TestType db;
    temp_dir dir;
    const auto marks = dir.path() / "marks";
    const auto pid_file = dir.path() / "stubborn.pid";
    // The polite task finishes only once the test releases it, after the drain began: it ends
    // inside the grace by construction, however slow the machine, and the grace (10 s) leaves it
    // ample room. The stubborn one ignores SIGTERM and is killed 1 s after the grace.
    const auto release = dir.path() / "release";
    const std::string yaml =
        "shutdown_grace: 10s\n"
        "jobs:\n  drain:\n    tasks:\n"
        "      polite:\n        type: shell\n        command: |\n"
        "          echo \"start polite\" >> " +
        marks.string() + "\n          while [ ! -e " + release.string() +
        " ]; do sleep 0.05; done\n"
        "          echo \"done polite\" >> " +
        marks.string() +
        "\n"
        "      stubborn:\n        type: shell\n        kill_grace: 1s\n        command: |\n"
        "          trap '' TERM\n"
        "          echo $$ > " +
        pid_file.string() + "\n          echo \"start stubborn\" >> " + marks.string() +
        "\n          sleep 60\n"
        "          echo \"done stubborn\" >> " +
        marks.string() + "\n";
    const auto config = write_config(dir, db.url(), yaml);
    daemon_process daemon(serve_args(config), dir.path() / "serve.log");
    trigger_when_ready(port_file(config), "drain");
    REQUIRE(wait_for_mark(marks, 0, "start", 15s));
    auto both = [&] {
        const auto lines = complete_lines(marks);
        return std::count_if(lines.begin(), lines.end(),
                             [](const std::string& l) { return l.rfind("start", 0) == 0; }) == 2;
    };
    for (int i = 0; i < 1500 && !both(); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(both());
    const int stubborn_pid = std::stoi(complete_lines(pid_file).at(0));

    const auto term_at = std::chrono::steady_clock::now();
    daemon.signal(SIGTERM);
    auto draining = [&] {
        return daemon.output().find("scheduler shutting down: 2 attempt(s) running") !=
               std::string::npos;
    };
    for (int i = 0; i < 1000 && !draining(); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    {
        INFO(daemon.output());
        REQUIRE(draining());
    }
    std::ofstream(release).put('\n');
    const auto code = daemon.wait_exit(60s);
    const auto took = std::chrono::steady_clock::now() - term_at;
    INFO(daemon.output());
    REQUIRE(code == 0);
    // The stubborn task held the daemon for the whole grace period, and only it was stopped
    // then: the polite one had finished during the drain.
    CHECK(took >= 9900ms);
    CHECK_THAT(daemon.output(), Catch::Matchers::Contains("received SIGTERM"));
    CHECK_THAT(daemon.output(),
               Catch::Matchers::Contains("shutdown grace elapsed: stopping 1 attempt(s)"));

    const auto lines = complete_lines(marks);
    CHECK(std::find(lines.begin(), lines.end(), "done polite") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "done stubborn") == lines.end());
    CHECK((::kill(stubborn_pid, 0) != 0 || [&] {
        std::ifstream stat("/proc/" + std::to_string(stubborn_pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        return text.find(") Z") != std::string::npos;
    }()));

    const auto runs = runs_list(config);
    REQUIRE(runs.size() == 1);
    const auto shown = run_show(config, runs.at(0).at("id"));
    CHECK(shown.at("state") == "running");  // the next start retries the interrupted attempt
    for (const auto& t : shown.at("tasks")) {
        if (t.at("task") == "polite") {
            CHECK(t.at("state") == "success");
        } else {
            CHECK(t.at("state") == "up_for_retry");
            CHECK(t.at("try_number") == 1);
        }
    }
}

namespace {

// tests/e2e/data/dag.yaml with its store replaced by `store_url`.
std::filesystem::path dag_config(const temp_dir& dir, const std::string& store_url) {
    std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/e2e/data/dag.yaml");
    std::string rest;
    bool skip_store = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("store:", 0) == 0) {
            skip_store = true;
            continue;
        }
        if (skip_store && line.rfind("  ", 0) == 0) {
            continue;
        }
        skip_store = false;
        rest += line + "\n";
    }
    return write_config(dir, store_url, rest);
}

}  // namespace

// A task whose daemon is killed under it was interrupted, not failed (docs/configuration.md
// #interruptions): without any retries it runs again at the next start and succeeds, and the
// stored try names the process that ran it; with on_interrupt: fail it fails instead, and its
// command never runs a second time.
TEMPLATE_TEST_CASE("an attempt cut off by kill -9 runs again without using a retry",
                   "[e2e][serve][kill]", sqlite_database, postgres_database) {
    TestType db;
    temp_dir dir;
    const auto marks = dir.path() / "marks";
    // The first try of each task leaves a flag, then writes `start` and hangs; a second try finds
    // the flag and writes `done`. A `start` line means its flag exists (the kill may come at once).
    const std::string flag = dir.path().string() + "/flag_$SLUICE_TASK";
    const std::string command = "        command: |\n          if [ -e " + flag +
                                " ]; then echo \"done $SLUICE_TASK $SLUICE_TRY_NUMBER\" >> " +
                                marks.string() + "; exit 0; fi\n          touch " + flag +
                                "\n          echo \"start $SLUICE_TASK $SLUICE_TRY_NUMBER\" >> " +
                                marks.string() + "\n          sleep 60\n";
    const std::filesystem::path config = write_config(
        dir, db.url(),
        "jobs:\n  keep:\n    tasks:\n      again:\n        type: shell\n" + command +
            "  once:\n    tasks:\n      never:\n        type: shell\n        on_interrupt: fail\n" +
            command);
    const auto log = dir.path() / "serve.log";
    auto daemon = std::make_unique<daemon_process>(serve_args(config), log);
    trigger_when_ready(port_file(config), "keep");
    trigger_when_ready(port_file(config), "once");
    auto both_started = [&] {
        const auto lines = complete_lines(marks);
        return std::count_if(lines.begin(), lines.end(),
                             [](const std::string& l) { return l.rfind("start", 0) == 0; }) == 2;
    };
    for (int i = 0; i < 3000 && !both_started(); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    INFO(daemon->output());
    REQUIRE(both_started());
    const pid_t killed = daemon->pid();
    daemon->signal(SIGKILL);
    REQUIRE(daemon->wait_exit(10s) == 128 + SIGKILL);
    daemon = std::make_unique<daemon_process>(serve_args(config), log);
    const nlohmann::json kept = wait_finished_run(config, "keep", 60s);
    const nlohmann::json failed = wait_finished_run(config, "once", 60s);
    daemon->signal(SIGTERM);
    CHECK(daemon->wait_exit(30s) == 0);
    INFO(daemon->output());
    REQUIRE(kept.is_object());
    REQUIRE(failed.is_object());

    // No retries configured (max_tries 1), and the task succeeded at its second try.
    CHECK(kept.at("state") == "success");
    const nlohmann::json again = run_show(config, kept.at("id")).at("tasks").at(0);
    CHECK(again.at("state") == "success");
    CHECK(again.at("try_number") == 2);
    CHECK(again.at("max_tries") == 1);
    CHECK(again.at("interruptions") == 1);
    // The kept try names the killed daemon (its instance id, host:pid:nonce).
    auto store = sluice::store::open_store(db.url());
    REQUIRE(store.has_value());
    auto history =
        (*store)->list_task_attempts(sluice::core::run_id{kept.at("id").get<std::int64_t>()});
    REQUIRE(history.has_value());
    REQUIRE(history->size() == 1);
    CHECK(history->at(0).try_number == 1);
    CHECK_THAT(history->at(0).error_message.value_or(""), Catch::Contains("interrupted"));
    REQUIRE(history->at(0).node);
    CHECK_THAT(*history->at(0).node, Catch::Contains(":" + std::to_string(killed) + ":"));

    // on_interrupt: fail: failed with the reason, and its command started once only.
    CHECK(failed.at("state") == "failed");
    const nlohmann::json never = run_show(config, failed.at("id")).at("tasks").at(0);
    CHECK(never.at("state") == "failed");
    CHECK(never.at("try_number") == 1);
    CHECK(never.at("interruptions") == 1);
    CHECK_THAT(never.at("error").get<std::string>(), Catch::Contains("on_interrupt: fail"));
    const auto lines = complete_lines(marks);
    CHECK(std::count(lines.begin(), lines.end(), "start never 1") == 1);
    CHECK(std::find(lines.begin(), lines.end(), "done again 2") != lines.end());
    CHECK(std::none_of(lines.begin(), lines.end(),
                       [](const std::string& l) { return l.rfind("start never 2", 0) == 0; }));
}

TEMPLATE_TEST_CASE("run applies retries and trigger rules on both stores", "[e2e][run]",
                   sqlite_database, postgres_database) {
    TestType db;
    temp_dir dir;
    const auto config = dag_config(dir, db.url());
    auto ok = run_sluice({"run", "-c", config.string(), "ok", "--param", "who=both"});
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.out, Catch::Matchers::Contains("hello both from left"));

    auto flaky = run_sluice({"run", "-c", config.string(), "flaky"});
    INFO(flaky.err);
    CHECK(flaky.exit_code == 1);
    const auto runs = runs_list(config);
    REQUIRE(runs.size() == 2);
    for (const auto& run : runs) {
        const auto shown = run_show(config, run.at("id"));
        std::map<std::string, std::pair<std::string, int>> tasks;
        for (const auto& t : shown.at("tasks")) {
            tasks[t.at("task")] = {t.at("state"), t.at("try_number")};
        }
        if (run.at("job") == "ok") {
            CHECK(run.at("state") == "success");
            CHECK(tasks.at("join").first == "success");
        } else {
            CHECK(run.at("state") == "failed");
            CHECK(tasks.at("fail") == std::pair<std::string, int>{"failed", 2});
            CHECK(tasks.at("cleanup").first == "success");  // all_done
            CHECK(tasks.at("alert").first == "success");    // one_failed
            CHECK(tasks.at("never").first == "upstream_failed");
        }
    }
}
