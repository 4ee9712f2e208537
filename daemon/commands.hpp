#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::daemon {

// Process exit codes, documented in docs/cli.md.
inline constexpr int exit_ok = 0;
inline constexpr int exit_invalid = 1;  // the input (config, expression) is invalid
inline constexpr int exit_usage = 2;    // bad command line, or a command not available yet

struct validate_options {
    std::string config_file;
    std::string environment;  // "" = no overlay
    bool quiet = false;       // print diagnostics only, no summary
    int next_runs = 3;        // how many upcoming fire times to show per job
};

struct cron_next_options {
    std::string expression;
    std::string zone = "UTC";
    std::optional<std::string> from;  // RFC 3339; default: now
    int count = 10;
};

struct cron_explain_options {
    std::string expression;
    std::string zone = "UTC";
};

struct serve_options {
    std::string config_file;
    std::string environment;
    std::string port_file;  // "" = none; else the bound HTTP port is written there once listening
};

struct token_options {
    std::string name;
    std::string role = "viewer";
};

struct migrate_options {
    std::string config_file;
    std::string environment;
};

struct run_options {
    std::string config_file;
    std::string environment;
    std::string job;
    std::vector<std::string> params;  // NAME=VALUE
    bool show_logs = true;            // print every task's output after the run
};

struct runs_options {
    std::string config_file;
    std::string environment;
    std::string job;    // list: "" = every job
    std::string state;  // list: "" = every state
    int limit = 50;
    std::int64_t run_id = 0;  // show
    bool json = false;        // --output json
    bool show_logs = false;   // show: task output too
};

// `sluice token new NAME --role R`: prints a fresh API token and its config line (hash only).
int run_token_new(const token_options& options);

// `sluice serve`: the daemon; runs until SIGTERM/SIGINT, then drains and exits 0.
int run_serve(const serve_options& options);

// `sluice migrate`: applies the store migrations not yet applied and reports the versions.
int run_migrate(const migrate_options& options);

// `sluice run`: one run of one job in the foreground; exit 0 when it succeeded, 1 otherwise.
int run_once(const run_options& options);

// `sluice runs list` and `sluice runs show`, read from the store.
int run_runs_list(const runs_options& options);
int run_runs_show(const runs_options& options);

// `sluice validate`: loads the config, prints every diagnostic as FILE:LINE:COL on stderr.
int run_validate(const validate_options& options);

// `sluice cron next`: prints the next fire times, one RFC 3339 timestamp per line.
int run_cron_next(const cron_next_options& options);

// `sluice cron explain`: the schedule in words and its next 5 fire times.
int run_cron_explain(const cron_explain_options& options);

}  // namespace sluice::daemon
