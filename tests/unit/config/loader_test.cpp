#include "config/loader.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/unit/config/test_support.hpp"

using namespace sluice::config;
using namespace sluice::config::testing;
using namespace std::chrono_literals;

TEST_CASE("config: format_diagnostic prints FILE:LINE:COL: error: MESSAGE", "[config]") {
    CHECK(format_diagnostic({"a.yaml", 3, 7, "boom"}) == "a.yaml:3:7: error: boom");
    CHECK(format_diagnostic({"a.yaml", 0, 0, "unreadable"}) == "a.yaml: error: unreadable");
}

TEST_CASE("config: an empty mapping is a valid configuration with every default", "[config]") {
    const auto& cfg = require_config(load_yaml("{}\n"));
    CHECK(cfg.workers == 8);
    CHECK(cfg.shutdown_grace == 30s);
    CHECK(cfg.server.listen == "127.0.0.1:8080");
    CHECK(cfg.server.port == 8080);
    CHECK(cfg.store.kind == store_kind::sqlite);
    CHECK(cfg.store.url == "sqlite://var/sluice.db");
    CHECK(cfg.defaults.timezone == "UTC");
    CHECK(cfg.defaults.retries.max_attempts == 1);
    CHECK(cfg.jobs.empty());
    CHECK(cfg.files == std::vector<std::filesystem::path>{"test.yaml"});
}

TEST_CASE("config: a YAML syntax error is reported alone with its mark", "[config]") {
    CHECK(only_error("workers: 3\njobs: [a, b\nserver: {}\n") ==
          "test.yaml:3:7: error: invalid YAML: end of sequence flow not found");
}

TEST_CASE("config: the top level must be a mapping", "[config]") {
    CHECK(only_error("- a\n- b\n") ==
          "test.yaml:1:1: error: expected a mapping for the configuration, got a sequence");
    CHECK(only_error("") ==
          "test.yaml:1:1: error: expected a mapping for the configuration, got nothing (null)");
}

TEST_CASE("config: a second YAML document is an error", "[config]") {
    CHECK(only_error("workers: 2\n---\nworkers: 3\n") ==
          "test.yaml:3:1: error: a configuration file holds one YAML document, but a second one "
          "starts here (remove the '---' separator)");
}

TEST_CASE("config: a malformed file that yaml-cpp reads as endless null documents ends",
          "[config]") {
    // Found by config_fuzz: after the first document yaml-cpp returns the same null document
    // for ever at this input; loading used to loop until killed.
    std::ifstream in(SLUICE_CONFIG_TEST_DATA "/endless_null_documents.yaml", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    REQUIRE(text.str().size() == 4096);
    const auto r = load_yaml(text.str());
    CHECK_FALSE(r.diagnostics.empty());  // a mutated example: invalid, and said so
}

TEST_CASE("config: unknown keys are reported with a did-you-mean or the valid keys", "[config]") {
    CHECK(only_error("wrokers: 3\n") ==
          "test.yaml:1:1: error: unknown key 'wrokers' in the configuration; did you mean "
          "'workers'?");
    CHECK(only_error("server:\n  lisen: \"127.0.0.1:1\"\n") ==
          "test.yaml:2:3: error: unknown key 'lisen' in 'server'; did you mean 'listen'?");
    CHECK(only_error("store: {url: \"sqlite://x.db\", frobnicate: 1}\n") ==
          "test.yaml:1:31: error: unknown key 'frobnicate' in 'store'; valid keys: url, "
          "pool_size, timeout");
}

TEST_CASE("config: wrong types name what was expected and what was found", "[config]") {
    CHECK(only_error("workers: [1, 2]\n") ==
          "test.yaml:1:10: error: expected an integer for 'workers', got a sequence");
    CHECK(only_error("workers: many\n") ==
          "test.yaml:1:10: error: invalid integer 'many' for 'workers'");
    CHECK(only_error("server: 5\n") ==
          "test.yaml:1:9: error: expected a mapping for 'server', got a scalar");
    CHECK(only_error("jobs:\n  - a\n") ==
          "test.yaml:2:3: error: expected a mapping for 'jobs', got a sequence");
    CHECK(only_error("server:\n  metrics_auth: yes\n") ==
          "test.yaml:2:17: error: invalid boolean 'yes' for 'metrics_auth': use true or false");
}

TEST_CASE("config: integers are range checked", "[config]") {
    CHECK(only_error("workers: 0\n") ==
          "test.yaml:1:10: error: 'workers' must be between 1 and 4096, got 0");
    CHECK(only_error("pools:\n  db: 0\n") ==
          "test.yaml:2:7: error: 'db' must be between 1 and 100000, got 0");
    CHECK(only_error("workers: 99999999999999999999\n") ==
          "test.yaml:1:10: error: integer '99999999999999999999' is too large for 'workers'");
}

TEST_CASE("config: durations accept every unit and reject anything else", "[config]") {
    for (const char* good : {"500ms", "90s", "15m", "2h", "1d", "1h30m"}) {
        INFO(good);
        const auto& cfg = require_config(load_yaml(std::string("shutdown_grace: ") + good));
        CHECK(cfg.shutdown_grace > 0ms);
    }
    CHECK(require_config(load_yaml("shutdown_grace: 1h30m\n")).shutdown_grace == 90min);
    CHECK(only_error("shutdown_grace: 30\n") ==
          "test.yaml:1:17: error: invalid duration '30' for 'shutdown_grace': expected a "
          "duration such as 500ms, 90s, 15m, 2h, 1d or 1h30m");
    CHECK(only_error("shutdown_grace: 5 minutes\n") ==
          "test.yaml:1:17: error: invalid duration '5 minutes' for 'shutdown_grace': expected a "
          "duration such as 500ms, 90s, 15m, 2h, 1d or 1h30m");
}

TEST_CASE("config: sizes accept bytes and binary or decimal units", "[config]") {
    const auto& cfg =
        require_config(load_yaml("server: {max_body_size: 2MiB, max_header_size: 8000}\n"));
    CHECK(cfg.server.max_body_bytes == 2u * 1024 * 1024);
    CHECK(cfg.server.max_header_bytes == 8000u);
    CHECK(only_error("server: {max_body_size: 2 MB}\n") ==
          "test.yaml:1:25: error: invalid size '2 MB' for 'max_body_size': expected a number of "
          "bytes or a size such as 512KiB, 1MiB or 10MB");
}

TEST_CASE("config: duplicate keys are reported at the second occurrence", "[config]") {
    CHECK(only_error("workers: 2\nworkers: 3\n") ==
          "test.yaml:2:1: error: duplicate key 'workers' (first defined at line 1)");
    CHECK(only_error("jobs:\n  a: {tasks: {t: {type: noop}}}\n  a: {tasks: {t: {type: noop}}}\n") ==
          "test.yaml:3:3: error: duplicate key 'a' (first defined at line 2)");
}

TEST_CASE("config: listen addresses are HOST:PORT with a valid port", "[config]") {
    const auto& cfg = require_config(load_yaml("server: {listen: \"[::1]:0\"}\n"));
    CHECK(cfg.server.host == "::1");
    CHECK(cfg.server.port == 0);
    CHECK(only_error("server: {listen: \"127.0.0.1:70000\"}\n") ==
          "test.yaml:1:29: error: invalid listen address '127.0.0.1:70000': the port must be a "
          "number from 0 to 65535");
    CHECK(only_error("server: {listen: localhost}\n") ==
          "test.yaml:1:18: error: invalid listen address 'localhost': expected HOST:PORT such as "
          "127.0.0.1:8080");
    CHECK(only_error("server: {listen: \":8080\"}\n") ==
          "test.yaml:1:19: error: invalid listen address ':8080': missing host; use "
          "0.0.0.0:PORT to listen on every interface");
    CHECK(only_error("server: {listen: \"::1:80\"}\n") ==
          "test.yaml:1:19: error: invalid listen address '::1:80': an IPv6 address needs "
          "brackets, as in [::1]:8080");
}

TEST_CASE("config: tokens need a 64-hex sha256, a unique name and a valid role", "[config]") {
    const std::string hash(64, 'a');
    const auto& cfg = require_config(load_yaml("server:\n  tokens:\n    - {name: ops, sha256: \"" +
                                               std::string(64, 'A') + "\", role: operator}\n"));
    REQUIRE(cfg.server.tokens.size() == 1);
    CHECK(cfg.server.tokens[0].sha256 == hash);
    CHECK(cfg.server.tokens[0].role == token_role::operator_);
    const auto r = load_yaml(
        "server:\n  tokens:\n"
        "    - {name: ops, sha256: \"abc\", role: root}\n"
        "    - {name: ops, sha256: \"" +
        hash +
        "\"}\n"
        "    - {name: b, sha256: \"" +
        hash +
        "\"}\n"
        "    - {sha256: \"" +
        std::string(64, 'b') + "\"}\n");
    CHECK(formatted(r) ==
          std::vector<std::string>{
              "test.yaml:3:27: error: 'sha256' must be 64 hexadecimal digits (the SHA-256 of the "
              "token; `sluice token new` prints it)",
              "test.yaml:3:40: error: invalid value 'root' for 'role': expected one of viewer, "
              "operator, admin",
              "test.yaml:4:14: error: duplicate token name 'ops' (first defined at line 3)",
              "test.yaml:5:25: error: token 'b' has the same sha256 as token 'ops'",
              "test.yaml:6:7: error: missing required key 'name' in a token",
          });
}

TEST_CASE("config: store urls are sqlite or postgres", "[config]") {
    auto cfg = require_config(load_string("store: {url: \"sqlite://state/s.db\"}\n",
                                          "/etc/sluice/sluice.yaml", make_options()));
    CHECK(cfg.store.kind == store_kind::sqlite);
    CHECK(cfg.store.sqlite_path == "/etc/sluice/state/s.db");
    cfg =
        require_config(load_yaml("store: {url: \"postgres://sluice@db/sluice\", pool_size: 3}\n"));
    CHECK(cfg.store.kind == store_kind::postgres);
    CHECK(cfg.store.pool_size == 3);
    CHECK_FALSE(cfg.store.url_is_secret);
    cfg = require_config(load_yaml("store: {url: \"postgresql://u:pw@db/sluice\"}\n"));
    CHECK(cfg.store.url_is_secret);
    CHECK(only_error("store: {url: \"mysql://db/x\"}\n") ==
          "test.yaml:1:14: error: unsupported store url 'mysql://db/x': expected sqlite://PATH, "
          "postgresql://... or postgres://...");
    CHECK(only_error("store: {pool_size: 2}\n") ==
          "test.yaml:1:1: error: missing required key 'url' in 'store'");
}

TEST_CASE("config: invalid enum values list the valid ones", "[config]") {
    CHECK(only_error("jobs:\n  j:\n    catchup: sometimes\n    tasks: {t: {type: noop}}\n") ==
          "test.yaml:3:14: error: invalid value 'sometimes' for 'catchup': expected one of none, "
          "latest, all");
    CHECK(only_error("jobs:\n  j:\n    concurrency: forbidd\n    tasks: {t: {type: noop}}\n") ==
          "test.yaml:3:18: error: invalid value 'forbidd' for 'concurrency': expected one of "
          "allow, forbid, replace; did you mean 'forbid'?");
}

TEST_CASE("config: defaults: timezone, retries and notify flow into jobs and tasks", "[config]") {
    const auto& cfg = require_config(load_yaml(R"(defaults:
  timezone: America/New_York
  retries: {max_attempts: 3, delay: 5s, backoff: 1.5, max_delay: 1m, jitter: 0.2}
  notify: {on: [failure, retry], webhook: "https://hooks.example.com/x"}
jobs:
  j:
    retries: {delay: 7s}
    tasks:
      a: {type: noop}
      b: {type: noop, retries: 5}
      c: {type: noop, retries: {backoff: 3}}
)"));
    const job_spec& j = cfg.jobs.at(0);
    CHECK(j.timezone == "America/New_York");
    REQUIRE(j.notify.has_value());
    CHECK(j.notify->on == std::vector<notify_event>{notify_event::failure, notify_event::retry});
    const retry_policy& a = j.tasks.at(0).retry;
    CHECK(a.max_attempts == 3);
    CHECK(a.delay == 7s);
    CHECK(a.backoff == 1.5);
    CHECK(a.max_delay == 1min);
    CHECK(a.jitter == 0.2);
    CHECK(j.tasks.at(1).retry.max_attempts == 5);
    CHECK(j.tasks.at(2).retry.backoff == 3.0);
    CHECK(j.tasks.at(2).retry.delay == 7s);
}

TEST_CASE("config: retry and notify settings are checked", "[config]") {
    CHECK(only_error("defaults:\n  retries: {jitter: 1.5}\n") ==
          "test.yaml:2:21: error: 'jitter' must be between 0 and 1, got 1.5");
    CHECK(only_error("defaults:\n  retries: {backoff: fast}\n") ==
          "test.yaml:2:22: error: invalid number 'fast' for 'backoff'");
    CHECK(only_error("defaults:\n  notify: {on: [failure]}\n") ==
          "test.yaml:2:3: error: 'notify' needs a 'webhook' or an 'email' (or both)");
    CHECK(only_error("defaults:\n  notify: {on: [faliure], email: a@b.c}\n") ==
          "test.yaml:2:17: error: invalid value 'faliure' for 'on': expected one of failure, "
          "success, retry, sla_miss; did you mean 'failure'?");
    CHECK(only_error("defaults:\n  notify: {email: \"a@b.c, evil@x.y\"}\n") ==
          "test.yaml:2:19: error: invalid email address 'a@b.c, evil@x.y' for 'email': expected "
          "one address such as oncall@example.com");
}

TEST_CASE("config: unknown time zones get a suggestion from the tz database", "[config]") {
    CHECK(only_error("defaults: {timezone: Europe/Berln}\n") ==
          "test.yaml:1:22: error: unknown time zone 'Europe/Berln'; did you mean "
          "'Europe/Berlin'? (expected an IANA name such as UTC, Europe/Berlin or "
          "America/New_York)");
}

TEST_CASE("config: every error of a broken file is reported, sorted by position", "[config]") {
    const auto r = load_file(SLUICE_CONFIG_TEST_DATA "/many_errors.yaml", make_options());
    const std::string f = SLUICE_CONFIG_TEST_DATA "/many_errors.yaml:";
    CHECK_FALSE(r.config.has_value());
    CHECK(formatted(r) ==
          std::vector<std::string>{
              f + "2:22: error: invalid listen address '127.0.0.1:99999': the port must be a "
                  "number from 0 to 65535",
              f + "4:1: error: unknown key 'wrokers' in the configuration; did you mean "
                  "'workers'?",
              f + "6:13: error: unknown time zone 'Mars/Olympus' (expected an IANA name such as "
                  "UTC, Europe/Berlin or America/New_York)",
              f + "8:15: error: invalid value 'mysqll' for 'type': expected one of postgres, "
                  "postgresql, mysql, clickhouse, sqlite, file, http; did you mean 'mysql'?",
              f + "12:18: error: invalid schedule '0 99 * * *': hour: 99 is out of range 0-23",
              f + "13:5: error: unknown key 'shedule' in job 'ingest'; did you mean "
                  "'schedule'?",
              f + "14:14: error: invalid duration '5x' for 'timeout': expected a duration such "
                  "as 500ms, 90s, 15m, 2h, 1d or 1h30m",
              f + "16:7: error: shell task 'a' needs 'command' (run by /bin/sh -c) or 'argv' "
                  "(run directly)",
              f + "16:37: error: dependency cycle in job 'ingest': a -> b -> c -> a (each task "
                  "depends on the next)",
              f + "18:34: error: sql tasks run on database connections (postgres, mysql, "
                  "clickhouse, sqlite), but 'files' is a file connection",
              f + "20:29: error: unknown pool 'bulk'; did you mean 'bulk_'?",
              f + "21:3: error: duplicate key 'ingest' (first defined at line 11)",
          });
}

TEST_CASE("config: an unreadable file is one whole-file diagnostic", "[config]") {
    const auto r = load_file("/nonexistent/sluice.yaml", make_options());
    CHECK(formatted(r) ==
          std::vector<std::string>{"/nonexistent/sluice.yaml: error: cannot read "
                                   "configuration file: No such file or directory"});
}

TEST_CASE("config: hostile YAML is bounded: self-referencing aliases and deep nesting",
          "[config]") {
    auto mentions = [](const load_result& r, const std::string& text) {
        return std::any_of(r.diagnostics.begin(), r.diagnostics.end(), [&](const diagnostic& d) {
            return d.message.find(text) != std::string::npos;
        });
    };
    auto r = load_yaml("jobs: &a [*a]\n");
    CHECK(mentions(r, "nested more than 64 levels"));
    r = load_yaml(
        "a: &a [1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c "
        "[*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f]\n");
    CHECK(mentions(r, "more than 250000 values"));
    // Few values, but long: 4 KiB repeated 8^5 times through aliases is 128 MiB of text.
    const std::string text(4096, 'x');
    std::string bomb = "s: &s0 \"" + text + "\"\n";
    for (int level = 1; level <= 5; ++level) {
        const std::string prev = "*s" + std::to_string(level - 1);
        bomb += "l" + std::to_string(level) + ": &s" + std::to_string(level) + " [" + prev + "," +
                prev + "," + prev + "," + prev + "," + prev + "," + prev + "," + prev + "," + prev +
                "]\n";
    }
    CHECK(mentions(load_yaml(bomb), "more than 32 MiB of text"));
}

TEST_CASE("config: YAML merge keys and anchors work", "[config]") {
    const auto& cfg = require_config(load_yaml(R"(jobs:
  a: &base
    schedule: "0 * * * *"
    timezone: Europe/Berlin
    tasks: {t: {type: noop}}
  b:
    <<: *base
    schedule: "30 * * * *"
)"));
    REQUIRE(cfg.jobs.size() == 2);
    CHECK(cfg.jobs[1].schedule == "30 * * * *");
    CHECK(cfg.jobs[1].timezone == "Europe/Berlin");
    CHECK(cfg.jobs[1].tasks.size() == 1);
}

TEST_CASE("config: after 1000 errors the load stops and says so", "[config]") {
    std::string yaml;
    for (int i = 0; i < 1500; ++i) {
        yaml += "unknown_" + std::to_string(i) + ": 1\n";
    }
    const auto r = load_yaml(yaml);
    REQUIRE(r.diagnostics.size() == 1001);
    CHECK(format_diagnostic(r.diagnostics.front()) ==
          "test.yaml: error: too many errors: stopped after the first 1000");
    CHECK(r.diagnostics.back().line == 1000);
}

// yaml-cpp 0.7 loops forever on these (found by the fuzzer); they must fail fast instead.
TEST_CASE("config: a ',' at the root level is a YAML error, not a hang", "[config]") {
    CHECK(only_error(",\n") ==
          "test.yaml:1:1: error: invalid YAML: a ',' cannot start a value outside [ ] or { }");
    CHECK(only_error("- [a]\n,\n") ==
          "test.yaml:2:1: error: invalid YAML: a ',' cannot start a value outside [ ] or { }");
    CHECK(only_error("# comment\n  , x\n") ==
          "test.yaml:2:3: error: invalid YAML: a ',' cannot start a value outside [ ] or { }");
    CHECK(only_error("--- ,\n") ==
          "test.yaml:1:5: error: invalid YAML: a ',' cannot start a value outside [ ] or { }");
    // Commas YAML allows at the start of a line are left alone.
    const auto& cfg = require_config(load_yaml(R"(jobs:
  j:
    tags: [a
, b]
    description: |
      first line
      , not a flow entry
    tasks:
      t:
        type: shell
        command: "echo one
          ,two"
)"));
    CHECK(cfg.jobs.at(0).tags == std::vector<std::string>{"a", "b"});
    CHECK(cfg.jobs.at(0).description == "first line\n, not a flow entry\n");
    CHECK(std::get<shell_spec>(cfg.jobs.at(0).tasks.at(0).kind).command == "echo one ,two");
}

TEST_CASE("config: notifications: delivery settings, defaults and checks", "[config][notify]") {
    const auto& defaults = require_config(load_yaml("{}\n"));
    CHECK(defaults.notifications.sendmail == "/usr/sbin/sendmail");
    CHECK(defaults.notifications.from.empty());
    CHECK(defaults.notifications.max_attempts == 5);
    CHECK(defaults.notifications.retry_delay == 2s);
    CHECK(defaults.notifications.timeout == 10s);
    const auto& cfg = require_config(load_yaml(R"(notifications:
  sendmail: bin/fake-sendmail
  from: sluice@example.com
  max_attempts: 3
  retry_delay: 200ms
  max_retry_delay: 2s
  timeout: 5s
  queue_limit: 10
)"));
    CHECK(cfg.notifications.sendmail.filename() == "fake-sendmail");
    CHECK(cfg.notifications.sendmail.is_absolute() == cfg.base_dir.is_absolute());
    CHECK(cfg.notifications.from == "sluice@example.com");
    CHECK(cfg.notifications.max_attempts == 3);
    CHECK(cfg.notifications.retry_delay == 200ms);
    CHECK(cfg.notifications.max_retry_delay == 2s);
    CHECK(cfg.notifications.timeout == 5s);
    CHECK(cfg.notifications.queue_limit == 10);
    CHECK(only_error("notifications: {from: \"a@b.c\\r\\nBcc: x@y.z\"}\n")
              .find("invalid email address") != std::string::npos);
    CHECK(only_error("notifications: {max_attempts: 0}\n") ==
          "test.yaml:1:31: error: 'max_attempts' must be between 1 and 100, got 0");
    CHECK(only_error("notifications: {sendmal: /x}\n").find("sendmal") != std::string::npos);
}

TEST_CASE("config: redact_webhook_url keeps scheme and host only", "[config][notify]") {
    CHECK(redact_webhook_url("https://hooks.slack.com/services/T0/B0/XYZ") ==
          "https://hooks.slack.com/***");
    CHECK(redact_webhook_url("http://u:pw@127.0.0.1:8080/x?token=1") ==
          "http://127.0.0.1:8080/***");
    CHECK(redact_webhook_url("https://example.com") == "https://example.com");
    CHECK(redact_webhook_url("https://example.com?k=s") == "https://example.com/***");
    CHECK(redact_webhook_url("nonsense") == "***");
}
