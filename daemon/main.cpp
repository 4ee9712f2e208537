// The sluice executable: command line, logging setup and dispatch to the commands.
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include "core/logging.hpp"
#include "daemon/api_client.hpp"
#include "daemon/commands.hpp"
#include "sluice/version.hpp"

namespace {

using namespace sluice::daemon;

struct global_options {
    std::string log_format = "text";
    std::string log_level = "info";
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Sluice: a scheduled-ETL orchestrator (cron scheduler, DAG executor, ETL)",
                 "sluice"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("sluice ") + sluice::version_string);

    global_options global;
    app.add_option("--log-format", global.log_format, "Log format: text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    app.add_option("--log-level", global.log_level,
                   "Log level: trace, debug, info, warn, error, critical, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
        ->capture_default_str();

    validate_options validate;
    auto* validate_cmd =
        app.add_subcommand("validate", "Check a config file and report every error");
    validate_cmd->add_option("-c,--config", validate.config_file, "Config file (YAML)")->required();
    validate_cmd->add_option("-e,--env", validate.environment,
                             "Environment overlay to merge (e.g. prod)");
    validate_cmd->add_flag("-q,--quiet", validate.quiet, "Print errors only");
    validate_cmd->add_option("--next", validate.next_runs, "Upcoming fire times to show per job")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();

    auto* cron_cmd = app.add_subcommand("cron", "Inspect cron expressions");
    cron_cmd->require_subcommand(1);
    cron_next_options next;
    auto* next_cmd = cron_cmd->add_subcommand("next", "Print the next fire times of an expression");
    next_cmd->add_option("expression", next.expression, "Cron expression, e.g. '0 2 * * *'")
        ->required();
    next_cmd->add_option("--tz", next.zone, "IANA time zone")->capture_default_str();
    next_cmd->add_option("--from", next.from, "Start instant, RFC 3339 (default: now)");
    next_cmd->add_option("-n,--count", next.count, "How many fire times")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    cron_explain_options explain;
    auto* explain_cmd =
        cron_cmd->add_subcommand("explain", "Describe an expression in words with its next runs");
    explain_cmd->add_option("expression", explain.expression, "Cron expression")->required();
    explain_cmd->add_option("--tz", explain.zone, "IANA time zone")->capture_default_str();

    serve_options serve;
    auto* serve_cmd = app.add_subcommand("serve", "Run the daemon: schedules, executor, store");
    serve_cmd->add_option("-c,--config", serve.config_file, "Config file (YAML)")->required();
    serve_cmd->add_option("-e,--env", serve.environment, "Environment overlay to merge");
    serve_cmd->add_option("--port-file", serve.port_file,
                          "Write the bound HTTP port to this file once listening (for port 0)");

    token_options token;
    auto* token_cmd = app.add_subcommand("token", "Manage API tokens");
    token_cmd->require_subcommand(1);
    auto* token_new_cmd =
        token_cmd->add_subcommand("new", "Print a fresh API token and its server.tokens entry");
    token_new_cmd->add_option("name", token.name, "The token's name (shown in the audit log)")
        ->required();
    token_new_cmd->add_option("--role", token.role, "viewer, operator or admin")
        ->check(CLI::IsMember({"viewer", "operator", "admin"}))
        ->capture_default_str();

    migrate_options migrate;
    auto* migrate_cmd =
        app.add_subcommand("migrate", "Apply pending store migrations and report the version");
    migrate_cmd->add_option("-c,--config", migrate.config_file, "Config file (YAML)")->required();
    migrate_cmd->add_option("-e,--env", migrate.environment, "Environment overlay to merge");

    prune_options prune;
    auto* prune_cmd = app.add_subcommand(
        "prune", "Remove history older than the configured retention (runs, logs, events)");
    prune_cmd->add_option("-c,--config", prune.config_file, "Config file (YAML)")->required();
    prune_cmd->add_option("-e,--env", prune.environment, "Environment overlay to merge");
    prune_cmd->add_flag("--dry-run", prune.dry_run, "Count what would be removed; remove nothing");

    run_options run;
    auto* run_cmd = app.add_subcommand("run", "Run one job once in the foreground");
    run_cmd->add_option("-c,--config", run.config_file, "Config file (YAML)")->required();
    run_cmd->add_option("-e,--env", run.environment, "Environment overlay to merge");
    run_cmd->add_option("job", run.job, "The job to run")->required();
    run_cmd->add_option("-p,--param", run.params, "A parameter, NAME=VALUE (repeatable)");
    run_cmd->add_flag("!--no-logs", run.show_logs, "Do not print task output at the end");

    // The HTTP client commands share where the server is, the token and the output format.
    client_options client;
    const auto add_client = [&](CLI::App* cmd, bool listing) {
        cmd->add_option("--server", client.server,
                        "Server URL, e.g. http://127.0.0.1:8080 (default: $SLUICE_SERVER, the "
                        "config's server.listen with -c, or http://127.0.0.1:8080)");
        cmd->add_option("--token-file", client.token_file,
                        "File holding the API token (default: $SLUICE_TOKEN)");
        cmd->add_option("-c,--config", client.config_file,
                        "Config file: the default server address comes from server.listen");
        cmd->add_option("-e,--env", client.environment, "Environment overlay to merge");
        if (listing) {
            cmd->add_option("--output", client.json, "Output format: table or json")
                ->transform(CLI::CheckedTransformer(
                    std::map<std::string, bool>{{"table", false}, {"json", true}}));
        }
    };

    trigger_options trigger;
    auto* trigger_cmd = app.add_subcommand("trigger", "Trigger a run of a job over the HTTP API");
    add_client(trigger_cmd, true);
    trigger_cmd->add_option("job", trigger.job, "The job to run")->required();
    trigger_cmd->add_option("-p,--param", trigger.params, "A parameter, NAME=VALUE (repeatable)");
    trigger_cmd->add_option("--idempotency-key", trigger.idempotency_key,
                            "The same key for the same job returns the same run");
    trigger_cmd->add_flag("--wait", trigger.wait,
                          "Wait until the run finishes; exit 0 only when it succeeded");

    reload_options reload;
    auto* reload_cmd = app.add_subcommand(
        "reload",
        "Validate the config, SIGHUP the daemon and wait until it applied or rejected the file "
        "(ExecReload)");
    add_client(reload_cmd, false);
    reload_cmd->get_option("--config")->required();
    reload_cmd->add_option("--pid", reload.pid, "The daemon's process id (systemd: $MAINPID)")
        ->required()
        ->check(CLI::PositiveNumber);
    reload_cmd
        ->add_option("--timeout", reload.timeout_s, "Seconds to wait for the reload to finish")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();

    backfill_options backfill;
    auto* backfill_cmd = app.add_subcommand(
        "backfill", "Start a backfill: one run per schedule interval in [--from, --to)");
    add_client(backfill_cmd, true);
    backfill_cmd->add_option("job", backfill.job, "The job to backfill")->required();
    backfill_cmd
        ->add_option("--from", backfill.from,
                     "Range start, RFC 3339 or a date (midnight in the job's zone; inclusive)")
        ->required();
    backfill_cmd
        ->add_option("--to", backfill.to,
                     "Range end, RFC 3339 or a date (midnight in the job's zone; exclusive)")
        ->required();
    backfill_cmd->add_option("--order", backfill.order, "oldest_first (default) or newest_first")
        ->check(CLI::IsMember({"oldest_first", "newest_first"}));
    backfill_cmd
        ->add_option("--max-active-runs", backfill.max_active_runs,
                     "Runs of this backfill active at once (default 1)")
        ->check(CLI::Range(1, 64));
    backfill_cmd
        ->add_option("--reprocess", backfill.reprocess,
                     "Intervals that already have a run: none (default: skip them), failed "
                     "(rerun failed ones), all")
        ->check(CLI::IsMember({"none", "failed", "all"}));
    backfill_cmd->add_option("-p,--param", backfill.params,
                             "A parameter of every run, NAME=VALUE (repeatable)");
    backfill_cmd->add_flag("--dry-run", backfill.dry_run,
                           "List the runs it would create; create nothing");
    backfill_cmd->add_flag("--wait", backfill.wait,
                           "Wait until the backfill finishes; exit 0 only when it succeeded");

    backfills_options backfills;
    auto* backfills_cmd =
        app.add_subcommand("backfills", "List, inspect, pause, resume and cancel backfills");
    backfills_cmd->require_subcommand(1);
    auto* backfills_list_cmd =
        backfills_cmd->add_subcommand("list", "List backfills, newest first");
    add_client(backfills_list_cmd, true);
    backfills_list_cmd->add_option("--job", backfills.job, "Only this job");
    backfills_list_cmd->add_option("--limit", backfills.limit, "At most this many")
        ->check(CLI::Range(1, 500));
    std::map<std::string, CLI::App*> backfill_actions;
    for (const auto& [name, what] :
         {std::pair<std::string, std::string>{"show", "Show a backfill's state and counts"},
          {"pause", "Create no new runs (running ones finish)"},
          {"resume", "Continue a paused backfill"},
          {"cancel", "Stop a backfill and cancel its queued and running runs"}}) {
        auto* cmd = backfills_cmd->add_subcommand(name, what);
        add_client(cmd, true);
        cmd->add_option("backfill_id", backfills.backfill_id, "Backfill id")->required();
        backfill_actions[name] = cmd;
    }

    runs_options runs;
    remote_runs_options remote_runs;
    auto* runs_cmd = app.add_subcommand(
        "runs", "Inspect and act on runs (HTTP API; list/show read the store with -c)");
    runs_cmd->require_subcommand(1);
    auto* runs_list_cmd = runs_cmd->add_subcommand("list", "List runs, newest first");
    add_client(runs_list_cmd, true);
    runs_list_cmd->add_option("--job", remote_runs.job, "Only this job");
    runs_list_cmd->add_option("--state", remote_runs.state, "Only this state");
    runs_list_cmd->add_option("--limit", remote_runs.limit, "At most this many")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    auto* runs_show_cmd = runs_cmd->add_subcommand("show", "Show one run with its tasks");
    add_client(runs_show_cmd, true);
    runs_show_cmd->add_option("run_id", remote_runs.run_id, "Run id")->required();
    runs_show_cmd->add_flag("--logs", runs.show_logs, "Print task output too (with -c only)");
    auto* runs_cancel_cmd = runs_cmd->add_subcommand("cancel", "Cancel a queued or running run");
    add_client(runs_cancel_cmd, true);
    runs_cancel_cmd->add_option("run_id", remote_runs.run_id, "Run id")->required();
    auto* runs_retry_cmd = runs_cmd->add_subcommand(
        "retry", "Rerun the failed tasks of a finished run and what depends on them");
    add_client(runs_retry_cmd, true);
    runs_retry_cmd->add_option("run_id", remote_runs.run_id, "Run id")->required();

    logs_options logs;
    auto* logs_cmd = app.add_subcommand("logs", "Print a task's output (-f: follow until it ends)");
    add_client(logs_cmd, true);
    logs_cmd->add_option("run_id", logs.run_id, "Run id")->required();
    logs_cmd->add_option("task", logs.task, "Task name")->required();
    logs_cmd->add_flag("-f,--follow", logs.follow, "Stream lines as they are written");

    name_options named;
    auto* jobs_cmd = app.add_subcommand("jobs", "List, pause and unpause jobs over the HTTP API");
    jobs_cmd->require_subcommand(1);
    auto* jobs_list_cmd = jobs_cmd->add_subcommand("list", "List jobs with their next fire time");
    add_client(jobs_list_cmd, true);
    auto* jobs_pause_cmd = jobs_cmd->add_subcommand("pause", "Stop scheduling a job");
    add_client(jobs_pause_cmd, true);
    jobs_pause_cmd->add_option("job", named.name, "The job")->required();
    auto* jobs_unpause_cmd = jobs_cmd->add_subcommand("unpause", "Schedule a paused job again");
    add_client(jobs_unpause_cmd, true);
    jobs_unpause_cmd->add_option("job", named.name, "The job")->required();

    auto* nodes_cmd = app.add_subcommand(
        "nodes", "List the serve processes on the store with their state (HTTP API)");
    add_client(nodes_cmd, true);

    auto* vars_cmd = app.add_subcommand("vars", "Read and write variables (admin token)");
    vars_cmd->require_subcommand(1);
    auto* vars_get_cmd = vars_cmd->add_subcommand("get", "Print a variable's value");
    add_client(vars_get_cmd, true);
    vars_get_cmd->add_option("key", named.name, "Variable key")->required();
    auto* vars_set_cmd = vars_cmd->add_subcommand("set", "Set a variable");
    add_client(vars_set_cmd, true);
    vars_set_cmd->add_option("key", named.name, "Variable key")->required();
    vars_set_cmd->add_option("value", named.value, "The value; - reads it from stdin")->required();
    vars_set_cmd->add_flag("--secret", named.secret, "Write-only: never returned by the API");
    auto* vars_rm_cmd = vars_cmd->add_subcommand("rm", "Delete a variable");
    add_client(vars_rm_cmd, false);
    vars_rm_cmd->add_option("key", named.name, "Variable key")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }

    auto format = sluice::core::parse_log_format(global.log_format);
    // The daemon logs to stdout (journald, containers); other commands keep stdout for results.
    const auto stream = serve_cmd->parsed() ? sluice::core::log_stream::stdout_stream
                                            : sluice::core::log_stream::stderr_stream;
    if (auto set = sluice::core::setup_logging({format.value(), global.log_level, stream}); !set) {
        std::cerr << "sluice: " << set.error().message << "\n";
        return exit_usage;
    }

    if (validate_cmd->parsed()) {
        return run_validate(validate);
    }
    if (next_cmd->parsed()) {
        return run_cron_next(next);
    }
    if (explain_cmd->parsed()) {
        return run_cron_explain(explain);
    }
    if (token_new_cmd->parsed()) {
        return run_token_new(token);
    }
    if (serve_cmd->parsed()) {
        return run_serve(serve);
    }
    if (migrate_cmd->parsed()) {
        return run_migrate(migrate);
    }
    if (prune_cmd->parsed()) {
        return run_prune(prune);
    }
    if (run_cmd->parsed()) {
        return run_once(run);
    }
    // `runs list|show` with -c and no --server read the store directly, as before the API
    // existed (works while the daemon is down); everything else goes over HTTP.
    const bool read_store = !client.config_file.empty() && client.server.empty();
    if (read_store && (runs_list_cmd->parsed() || runs_show_cmd->parsed())) {
        runs.config_file = client.config_file;
        runs.environment = client.environment;
        runs.json = client.json;
        runs.job = remote_runs.job;
        runs.state = remote_runs.state;
        runs.limit = remote_runs.limit;
        runs.run_id = remote_runs.run_id;
        return runs_list_cmd->parsed() ? run_runs_list(runs) : run_runs_show(runs);
    }
    if (runs_list_cmd->parsed()) {
        return run_remote_runs_list(client, remote_runs);
    }
    if (runs_show_cmd->parsed()) {
        return run_remote_runs_show(client, remote_runs);
    }
    if (runs_cancel_cmd->parsed()) {
        return run_remote_runs_action(client, remote_runs, "cancel");
    }
    if (runs_retry_cmd->parsed()) {
        return run_remote_runs_action(client, remote_runs, "retry");
    }
    if (reload_cmd->parsed()) {
        return run_reload(client, reload);
    }
    if (trigger_cmd->parsed()) {
        return run_trigger(client, trigger);
    }
    if (logs_cmd->parsed()) {
        return run_logs(client, logs);
    }
    if (backfill_cmd->parsed()) {
        return run_backfill(client, backfill);
    }
    if (backfills_list_cmd->parsed()) {
        return run_backfills_list(client, backfills);
    }
    for (const auto& [name, cmd] : backfill_actions) {
        if (cmd->parsed()) {
            return name == "show" ? run_backfills_show(client, backfills)
                                  : run_backfills_action(client, backfills, name);
        }
    }
    if (jobs_list_cmd->parsed()) {
        return run_jobs_list(client);
    }
    if (jobs_pause_cmd->parsed() || jobs_unpause_cmd->parsed()) {
        return run_jobs_pause(client, named, jobs_pause_cmd->parsed());
    }
    if (nodes_cmd->parsed()) {
        return run_nodes_list(client);
    }
    if (vars_get_cmd->parsed()) {
        return run_vars_get(client, named);
    }
    if (vars_set_cmd->parsed()) {
        return run_vars_set(client, named);
    }
    return run_vars_rm(client, named);
}
