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
// The HTTP client commands (trigger, runs, logs, jobs, vars) add:
inline constexpr int exit_run_failed = 1;   // trigger --wait: the run did not succeed
inline constexpr int exit_refused = 3;      // the API refused the request (400, 404, 409, ...)
inline constexpr int exit_denied = 4;       // 401 no or unknown token, 403 role too low
inline constexpr int exit_unavailable = 5;  // server unreachable, 5xx or a malformed reply

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

struct prune_options {
    std::string config_file;
    std::string environment;
    bool dry_run = false;
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

// The HTTP client commands; `client` says where the server is and how to authenticate.
struct client_options;

struct trigger_options {
    std::string job;
    std::vector<std::string> params;  // NAME=VALUE
    std::string idempotency_key;      // "" = none
    bool wait = false;                // poll until the run finishes; exit 0 only on success
    int poll_ms = 500;
};

struct remote_runs_options {
    std::string job;
    std::string state;
    int limit = 50;
    std::int64_t run_id = 0;
};

struct logs_options {
    std::int64_t run_id = 0;
    std::string task;
    bool follow = false;
};

struct name_options {
    std::string name;   // a job or a variable key
    std::string value;  // vars set
    bool secret = false;
};

struct backfill_options {
    std::string job;
    std::string from;  // RFC 3339
    std::string to;    // RFC 3339
    std::string order = "oldest_first";
    int max_active_runs = 1;
    std::string reprocess = "none";
    std::vector<std::string> params;  // NAME=VALUE, passed to every run
    bool dry_run = false;
    bool wait = false;  // poll until the backfill finishes; exit 0 only on success
    int poll_ms = 500;
};

// `sluice reload`: validate, SIGHUP the daemon, wait for its outcome.
struct reload_options {
    int pid = 0;         // the daemon's process (systemd: $MAINPID)
    int timeout_s = 60;  // how long to wait for the reload to finish
};

struct backfills_options {
    std::string job;  // list: "" = every job
    int limit = 50;
    std::int64_t backfill_id = 0;
};

// `sluice trigger JOB`: POST /api/v1/jobs/{job}/runs, with --wait until the run finishes.
int run_trigger(const client_options& client, const trigger_options& options);
// `sluice runs list|show|cancel|retry` over HTTP.
int run_remote_runs_list(const client_options& client, const remote_runs_options& options);
int run_remote_runs_show(const client_options& client, const remote_runs_options& options);
int run_remote_runs_action(const client_options& client, const remote_runs_options& options,
                           const std::string& action);
// `sluice backfill JOB --from T1 --to T2`: POST /api/v1/jobs/{job}/backfills.
int run_backfill(const client_options& client, const backfill_options& options);
// `sluice backfills list|show|pause|resume|cancel`.
int run_backfills_list(const client_options& client, const backfills_options& options);
int run_backfills_show(const client_options& client, const backfills_options& options);
int run_backfills_action(const client_options& client, const backfills_options& options,
                         const std::string& action);
// `sluice logs RUN TASK [-f]`.
int run_logs(const client_options& client, const logs_options& options);
// `sluice jobs list|pause|unpause`.
// `sluice reload -c FILE --pid PID`: exit 0 once the daemon applied the file, 1 when the file
// is invalid or the daemon rejected it, 5 when the daemon cannot be reached or did not finish.
int run_reload(const client_options& client, const reload_options& options);
int run_jobs_list(const client_options& client);
int run_jobs_pause(const client_options& client, const name_options& options, bool pause);
// `sluice nodes`: the cluster's nodes (GET /api/v1/nodes); the node that answered is marked *.
int run_nodes_list(const client_options& client);
// `sluice vars get|set|rm`.
int run_vars_get(const client_options& client, const name_options& options);
int run_vars_set(const client_options& client, const name_options& options);
int run_vars_rm(const client_options& client, const name_options& options);

// `sluice token new NAME --role R`: prints a fresh API token and its config line (hash only).
int run_token_new(const token_options& options);

// `sluice serve`: the daemon; runs until SIGTERM/SIGINT, then drains and exits 0.
int run_serve(const serve_options& options);

// `sluice migrate`: applies the store migrations not yet applied and reports the versions.
int run_migrate(const migrate_options& options);

// `sluice prune`: removes the history older than the configuration's retention now (or, with
// --dry-run, counts it); safe while a daemon serves the same store.
int run_prune(const prune_options& options);

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
