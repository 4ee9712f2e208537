#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/duration.hpp"

// The typed form of a validated configuration (docs/configuration.md describes every key).
// Everything here is resolved: defaults applied, relative paths made relative to the directory
// of the configuration file, retry policies merged over `defaults`. Values marked secret came
// from ${env:...} / ${file:...} interpolation and must never be logged or returned by the API.
namespace sluice::config {

using namespace std::chrono_literals;

enum class catchup_policy { none, latest, all };
enum class concurrency_policy { allow, forbid, replace };
enum class trigger_rule { all_success, all_done, one_failed, one_success, none_failed, always };
enum class task_type { noop, shell, sql, copy, http, trigger_job };
// What an attempt cut off by a crash, a lost node or a kill at shutdown leaves its task in
// (docs/configuration.md#interruptions): tried again without using a retry, or failed.
enum class interrupt_action { retry, fail };
// `postgresql` in a file is an alias of `postgres`.
enum class connection_type { postgres, mysql, clickhouse, sqlite, file, http };
enum class sink_mode { append, upsert, replace, scd2 };
// `operator_` because `operator` is a C++ keyword; it reads "operator" in files and messages.
enum class token_role { viewer, operator_, admin };
enum class param_type { string, integer, number, boolean, date, timestamp };
enum class notify_event { failure, success, retry, sla_miss };
enum class create_table_policy { never, if_missing };
// `deletes` of a copy task: leave sink rows alone, or delete those whose key left the source.
enum class deletes_policy { ignore, detect };
enum class file_format { csv, jsonl };
enum class store_kind { sqlite, postgres };

// The spelling used in configuration files.
std::string_view to_string(catchup_policy v);
std::string_view to_string(concurrency_policy v);
std::string_view to_string(trigger_rule v);
std::string_view to_string(task_type v);
std::string_view to_string(connection_type v);
std::string_view to_string(sink_mode v);
std::string_view to_string(token_role v);
std::string_view to_string(param_type v);
std::string_view to_string(notify_event v);
std::string_view to_string(create_table_policy v);
std::string_view to_string(deletes_policy v);
std::string_view to_string(interrupt_action v);
std::string_view to_string(file_format v);
std::string_view to_string(store_kind v);

// True for connection types a SQL statement can run on.
bool is_database(connection_type t);

// Why `path` may not name a file of a file connection, or nullopt when it may: a path is
// relative to the connection's directory and stays inside it (no absolute path, no '..'
// component, no control characters), so a configuration cannot make a copy read or write
// anywhere else (docs/etl.md).
std::optional<std::string> file_path_problem(std::string_view path);

// "https://hooks.example.com/***": what logs and the API show of a notification webhook URL,
// whose path and query often hold a secret token (Slack's do). User info is dropped too.
std::string redact_webhook_url(std::string_view url);

// Where a job or task was defined, for messages at run time ("defined at jobs.yaml:12:5").
struct source_position {
    std::string file;
    int line = 0;
    int column = 0;

    bool operator==(const source_position&) const = default;
};

struct token_spec {
    std::string name;
    std::string sha256;  // 64 lowercase hex digits: the SHA-256 of the bearer token
    token_role role = token_role::viewer;

    bool operator==(const token_spec&) const = default;
};

// HTTPS for the API and the page (docs/operations.md#tls): PEM files, read when the daemon
// starts and again on every reload (certificate rotation).
struct tls_spec {
    std::filesystem::path cert;  // the certificate chain, leaf first
    std::filesystem::path key;   // its private key, unencrypted

    bool operator==(const tls_spec&) const = default;
};

struct server_spec {
    std::string listen = "127.0.0.1:8080";
    std::string host = "127.0.0.1";  // without IPv6 brackets
    std::uint16_t port = 8080;       // 0 = any free port
    std::vector<token_spec> tokens;
    bool metrics_auth = false;  // /metrics needs a token too
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    core::duration read_timeout = 30s;  // per request (slowloris bound)
    int max_connections = 1024;
    std::size_t sse_queue_limit = 1024;  // events buffered per SSE client before it is dropped
    std::string public_url;              // base of links in notifications; "" = none
    // Host names the server answers to besides loopback and public_url's host ("*" = any);
    // empty with tokens = any (docs/configuration.md#server).
    std::vector<std::string> allowed_hosts;
    std::optional<tls_spec> tls;
    // Tokens over plain HTTP on a non-loopback address: only behind a TLS-terminating proxy.
    bool allow_plaintext_tokens = false;

    bool operator==(const server_spec&) const = default;
};

struct store_spec {
    std::string url = "sqlite://var/sluice.db";
    bool url_is_secret = false;  // the URL holds a password or interpolated text
    store_kind kind = store_kind::sqlite;
    std::filesystem::path sqlite_path;  // resolved; set when kind == sqlite
    int pool_size = 4;                  // PostgreSQL connections
    // PostgreSQL: bound on every store operation but migrations (docs/operations.md#store-outages)
    core::duration timeout = 30s;

    bool operator==(const store_spec&) const = default;
};

// A retry policy, resolved from built-in values, `defaults.retries`, the job's and the task's.
struct retry_policy {
    int max_attempts = 1;  // total attempts, including the first
    core::duration delay = 10s;
    double backoff = 2.0;  // delay multiplier per further attempt
    core::duration max_delay = 10min;
    double jitter = 0.0;  // each delay is randomized by up to this fraction, 0..1

    bool operator==(const retry_policy&) const = default;
};

struct notify_spec {
    std::vector<notify_event> on{notify_event::failure};
    std::optional<std::string> webhook;  // http(s) URL, Slack-compatible JSON POST
    bool webhook_is_secret = false;
    std::optional<std::string> email;

    bool operator==(const notify_spec&) const = default;
};

// How notifications are delivered, for every job (docs/configuration.md#notifications).
struct notifications_spec {
    std::filesystem::path sendmail = "/usr/sbin/sendmail";  // run as `PROGRAM -t -i`
    std::string from;                 // From: of mails; "" = sluice@<host name>
    int max_attempts = 5;             // deliveries tried per notification and channel
    core::duration retry_delay = 2s;  // before the second try; doubled after each failed try
    core::duration max_retry_delay = 1min;
    core::duration timeout = 10s;  // one try: an HTTP request or a sendmail run
    int queue_limit = 1000;        // notifications waiting for delivery; more are dropped

    bool operator==(const notifications_spec&) const = default;
};

struct defaults_spec {
    std::string timezone = "UTC";
    retry_policy retries;
    std::optional<notify_spec> notify;
    std::vector<std::string> inherit_env;  // see job_spec::inherit_env

    bool operator==(const defaults_spec&) const = default;
};

struct connection_spec {
    std::string name;
    std::string description;
    connection_type type = connection_type::postgres;
    std::string url;
    bool url_is_secret = false;        // holds a password or interpolated text: core::redact_url
    std::filesystem::path local_path;  // sqlite: the database file; file: the directory
    int pool_size = 4;
    core::duration connect_timeout = 10s;
    std::vector<std::pair<std::string, std::string>> headers;  // http only
    std::set<std::string> secret_headers;                      // names of interpolated headers
    // http only: follow next-page links to another origin (scheme, host, port), without the
    // url's credentials or the configured headers (docs/etl.md, http).
    bool allow_cross_origin = false;
    std::optional<file_format> format;  // file only

    bool operator==(const connection_spec&) const = default;
};

struct param_spec {
    std::string name;
    param_type type = param_type::string;
    std::optional<std::string> default_value;  // validated against `type`
    bool required = false;
    std::string description;
    std::vector<std::string> values;  // allowed values; empty = any of the type

    bool operator==(const param_spec&) const = default;
};

struct noop_spec {
    bool operator==(const noop_spec&) const = default;
};

struct shell_spec {
    std::optional<std::string> command;  // run by /bin/sh -c
    std::vector<std::string> argv;       // run directly; exactly one of command/argv is set
    std::vector<std::pair<std::string, std::string>> env;
    std::set<std::string> secret_env;  // names of interpolated variables
    // Secret store variables this task receives as SLUICE_VAR_<KEY>; the others never reach it
    // (docs/task-kinds.md, environment).
    std::vector<std::string> secrets;
    std::optional<std::filesystem::path> cwd;
    core::duration kill_grace = 10s;       // SIGTERM -> SIGKILL on timeout or cancel
    std::vector<int> retry_on_exit_codes;  // empty = every non-zero code is transient

    bool operator==(const shell_spec&) const = default;
};

struct sql_spec {
    std::string connection;
    std::optional<std::string> sql;             // statements; exactly one of sql/file is set
    std::optional<std::filesystem::path> file;  // read when the task runs
    // Columns of the last statement's single row, published as the task's outputs.
    std::vector<std::string> outputs;

    bool operator==(const sql_spec&) const = default;
};

// A sink column and the source expression that produces it ("amount" <- "CAST(a AS DECIMAL)").
struct column_spec {
    std::string name;
    std::string expression;

    bool operator==(const column_spec&) const = default;
};

struct copy_source_spec {
    std::string connection;
    std::optional<std::string> table;  // database sources: exactly one of table/query
    std::optional<std::string> query;
    std::optional<std::string> path;         // file and http sources
    std::vector<std::string> cursor;         // incremental: compared as a tuple
    std::optional<core::duration> lookback;  // re-read window before the mark
    std::vector<column_spec> columns;        // empty = every column as is
    std::optional<file_format> format;       // file sources
    std::optional<std::string> records;      // http: the field holding the rows
    std::optional<std::string> next_page;    // http: the field holding the next link

    bool operator==(const copy_source_spec&) const = default;
};

struct copy_sink_spec {
    std::string connection;
    std::optional<std::string> table;  // database sinks
    std::optional<std::string> path;   // file sinks
    sink_mode mode = sink_mode::append;
    std::vector<std::string> key;               // upsert and scd2
    std::optional<std::string> sequence;        // upsert and scd2: orders change events
    std::optional<std::string> operation;       // upsert and scd2: insert/update/delete column
    std::vector<std::string> tracked_columns;   // scd2: empty = every non-key column
    std::optional<std::string> valid_from;      // scd2: event time column; default `sequence`
    std::optional<std::string> version_column;  // ClickHouse ReplacingMergeTree version
    std::optional<file_format> format;          // file sinks

    bool operator==(const copy_sink_spec&) const = default;
};

struct copy_spec {
    copy_source_spec source;
    copy_sink_spec sink;
    int batch_rows = 10000;
    core::duration sleep_between_batches = 0s;
    std::optional<int> max_batches_per_run;
    create_table_policy create_table = create_table_policy::never;
    // detect: after the copy, sink rows whose key is gone from the source are deleted
    // (docs/etl.md, "Deleted rows"); upsert with a key only.
    deletes_policy deletes = deletes_policy::ignore;

    bool operator==(const copy_spec&) const = default;
};

struct http_spec {
    std::string method = "GET";
    std::string url;
    bool url_is_secret = false;
    std::vector<std::pair<std::string, std::string>> headers;
    std::set<std::string> secret_headers;
    std::optional<std::string> body;  // JSON text (a mapping or sequence in YAML) or raw text
    bool body_is_secret = false;
    std::vector<int> expected_status;  // empty = any 2xx

    bool operator==(const http_spec&) const = default;
};

struct trigger_job_spec {
    std::string job;
    std::vector<std::pair<std::string, std::string>> params;
    bool wait = true;  // succeed or fail with the triggered run

    bool operator==(const trigger_job_spec&) const = default;
};

using task_kind_spec =
    std::variant<noop_spec, shell_spec, sql_spec, copy_spec, http_spec, trigger_job_spec>;

struct task_spec {
    std::string name;
    source_position defined_at;
    std::string description;
    task_type type = task_type::noop;
    std::vector<std::string> depends_on;
    trigger_rule rule = trigger_rule::all_success;
    std::optional<std::string> pool;
    std::optional<core::duration> timeout;  // one attempt
    retry_policy retry;
    bool retry_on_timeout = false;
    // Interrupted attempts do not count as tries; this many are retried, the next one fails the
    // task (a bound on a crash loop the task itself causes).
    int max_interruptions = 20;
    interrupt_action on_interrupt = interrupt_action::retry;
    task_kind_spec kind;  // the alternative matches `type`

    bool operator==(const task_spec&) const = default;
};

struct job_spec {
    std::string name;
    source_position defined_at;
    std::string description;
    std::vector<std::string> tags;
    std::optional<std::string> schedule;  // nullopt = manual triggers only
    std::string timezone = "UTC";         // IANA name, from defaults.timezone when not set
    catchup_policy catchup = catchup_policy::latest;
    int max_catchup_runs = 100;
    concurrency_policy concurrency = concurrency_policy::allow;
    int max_active_runs = 1;
    std::optional<int> max_active_tasks;    // nullopt = bounded by `workers` only
    bool paused = false;                    // initial state; the store keeps the live one
    std::optional<core::duration> timeout;  // whole run
    std::optional<core::duration> sla;
    std::vector<param_spec> params;
    std::optional<notify_spec> notify;  // the job's own, else defaults.notify
    // Variables of the daemon's environment its shell tasks receive beyond the base set:
    // defaults.inherit_env, then the job's own; a name, or a prefix ending in '*'.
    std::vector<std::string> inherit_env;
    std::vector<task_spec> tasks;  // in file order

    const task_spec* find_task(std::string_view task_name) const;

    bool operator==(const job_spec&) const = default;
};

// How long the store keeps history (docs/operations.md, "Retention"); zero keeps that kind
// forever. Runs: finished runs with their tasks, logs and events; logs: task log lines of
// finished runs; events: events not of an active run.
struct retention_spec {
    core::duration runs = std::chrono::hours(24 * 90);
    core::duration logs = std::chrono::hours(24 * 30);
    core::duration events = std::chrono::hours(24 * 30);

    bool operator==(const retention_spec&) const = default;
};

// `cluster:` (docs/cluster.md): how this process shows itself to the other `sluice serve`
// processes on a shared store. Its node row counts as alive for lease_ttl after each heartbeat,
// measured by the store's clock.
struct cluster_spec {
    std::string node_name;  // "" = HOST:PID
    core::duration lease_ttl = 10s;
    // Resolved: lease_ttl / 3 when not written; always below lease_ttl.
    core::duration heartbeat = std::chrono::milliseconds(3333);

    bool operator==(const cluster_spec&) const = default;
};

struct sluice_config {
    server_spec server;
    store_spec store;
    int workers = 8;
    core::duration shutdown_grace = 30s;
    std::map<std::string, int> pools;  // name -> slots
    defaults_spec defaults;
    notifications_spec notifications;
    retention_spec retention;
    cluster_spec cluster;
    std::map<std::string, connection_spec> connections;
    std::vector<job_spec> jobs;                // in file order
    std::string environment;                   // the overlay merged, "" = none
    std::vector<std::filesystem::path> files;  // every file read: the base, then its overlay
    std::filesystem::path base_dir;            // relative paths were resolved against this

    const job_spec* find_job(std::string_view job_name) const;
    // "no job named 'x'; did you mean 'y'?", or with the configured jobs when none is close: what
    // every command and API call says of a job name the configuration does not have.
    std::string unknown_job_message(std::string_view job_name) const;

    bool operator==(const sluice_config&) const = default;
};

}  // namespace sluice::config
