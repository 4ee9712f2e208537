// The sluice executable: command line, logging setup and dispatch to the commands.
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/logging.hpp"
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

    run_options run;
    auto* run_cmd = app.add_subcommand("run", "Run one job once in the foreground");
    run_cmd->add_option("-c,--config", run.config_file, "Config file (YAML)")->required();
    run_cmd->add_option("-e,--env", run.environment, "Environment overlay to merge");
    run_cmd->add_option("job", run.job, "The job to run")->required();
    run_cmd->add_option("-p,--param", run.params, "A parameter, NAME=VALUE (repeatable)");
    run_cmd->add_flag("!--no-logs", run.show_logs, "Do not print task output at the end");

    runs_options runs;
    auto* runs_cmd = app.add_subcommand("runs", "Inspect runs recorded in the store");
    runs_cmd->require_subcommand(1);
    const auto add_common = [&](CLI::App* cmd) {
        cmd->add_option("-c,--config", runs.config_file, "Config file (YAML)")->required();
        cmd->add_option("-e,--env", runs.environment, "Environment overlay to merge");
        cmd->add_option("--output", runs.json, "Output format: table or json")
            ->transform(CLI::CheckedTransformer(
                std::map<std::string, bool>{{"table", false}, {"json", true}}));
    };
    auto* runs_list_cmd = runs_cmd->add_subcommand("list", "List runs, newest first");
    add_common(runs_list_cmd);
    runs_list_cmd->add_option("--job", runs.job, "Only this job");
    runs_list_cmd->add_option("--state", runs.state, "Only this state");
    runs_list_cmd->add_option("--limit", runs.limit, "At most this many")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    auto* runs_show_cmd = runs_cmd->add_subcommand("show", "Show one run with its tasks");
    add_common(runs_show_cmd);
    runs_show_cmd->add_option("run_id", runs.run_id, "Run id")->required();
    runs_show_cmd->add_flag("--logs", runs.show_logs, "Print task output too");

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
    if (run_cmd->parsed()) {
        return run_once(run);
    }
    if (runs_list_cmd->parsed()) {
        return run_runs_list(runs);
    }
    return run_runs_show(runs);
}
