#!/usr/bin/env bash
# Fills a store for measuring the admin page at size (docs/benchmarks.md#admin-page): JOBS jobs of
# five noop tasks (extract -> transform -> load -> check -> publish) and RUNS finished runs spread
# over them, one a minute, each with its five task instances, three run.state events, and for
# every 23rd run a failure (load failed at its second try, its first try in the attempt history,
# check and publish upstream_failed); the newest run's extract holds a 10 MiB log. So that every
# view of the page has its data at size: each job is scheduled once a day, twelve hours from the
# seeding (in the overview's next 24 hours, never firing during a bench); the first ten jobs'
# load is a copy (SQLite to SQLite, never run here) whose seeded runs carry a copy's metrics;
# every job has a finished backfill owning every 7th of its runs; and 200 variables, every 10th
# secret.
#
# Bulk SQL, not the store's API: the rows are what the engine writes for such runs (the schema is
# the one `sluice migrate` creates, so it stays the store's own), and INSERT ... SELECT over a
# generated series writes 100,000 runs in seconds where dispatching them takes minutes.
#
# Writes DIR/sluice.yaml (port PORT) for the store and prints it.
# Usage: bench/seed_ui.sh BUILD_DIR DIR sqlite|postgres [RUNS] [JOBS] [PORT]
#   postgres: a fresh database on SLUICE_TEST_PG_URL (scripts/test-servers.sh); its URL is in
#   DIR/pg_url and it is dropped by `bench/seed_ui.sh drop DIR`.
set -euo pipefail
if [[ ${1:-} == drop ]]; then
    url=$(cat "${2:?usage: bench/seed_ui.sh drop DIR}/pg_url")
    psql "${SLUICE_TEST_PG_URL:?}" -qc "DROP DATABASE IF EXISTS ${url##*/}"
    exit 0
fi
build_dir=$(cd "${1:?usage: bench/seed_ui.sh BUILD_DIR DIR sqlite|postgres [RUNS] [JOBS] [PORT]}" && pwd)
dir=${2:?DIR}
kind=${3:?sqlite or postgres}
runs=${4:-100000}
jobs=${5:-100}
port=${6:-18080}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case $kind in
    sqlite)
        command -v sqlite3 >/dev/null || { echo "seed_ui: sqlite3 is missing" >&2; exit 2; }
        rm -f "$dir"/sluice.db*
        url="sqlite://$dir/sluice.db"
        ;;
    postgres)
        : "${SLUICE_TEST_PG_URL:?start scripts/test-servers.sh and export its env first}"
        db="sluice_ui_$(date +%s)_$RANDOM"
        psql "$SLUICE_TEST_PG_URL" -qc "CREATE DATABASE $db"
        url="${SLUICE_TEST_PG_URL%/*}/$db"
        echo "$url" >"$dir/pg_url"
        ;;
    *) echo "seed_ui: store is sqlite or postgres" >&2; exit 2 ;;
esac

copies=$(( jobs < 10 ? jobs : 10 ))
hour=$(( ($(date -u +%-H) + 12) % 24 ))
{
    # Retention off: the seeded history is dated from 2026-05-28 on, past the default 90 days on
    # most dates, and the pass a minute after startup (docs/configuration.md#retention) would
    # empty the store in the middle of a bench.
    printf 'server:\n  listen: "127.0.0.1:%s"\nstore:\n  url: "%s"\nshutdown_grace: 1s\n' \
        "$port" "$url"
    printf 'retention: {runs: 0, logs: 0, events: 0}\n'
    printf 'connections:\n  app: {type: sqlite, url: "sqlite://app.db"}\n'
    printf '  warehouse: {type: sqlite, url: "sqlite://warehouse.db"}\njobs:\n'
    for ((j = 0; j < jobs; j++)); do
        printf '  job_%d:\n    description: "seeded job %d"\n    schedule: "0 %d * * *"\n' \
            $((100 + j)) "$j" "$hour"
        printf '    tasks:\n      extract: {type: noop}\n'
        printf '      transform: {type: noop, depends_on: [extract]}\n'
        if ((j < copies)); then
            printf '      load: {type: copy, depends_on: [transform], source: {connection: app, '
            printf 'table: orders_%d, cursor: [id]}, sink: {connection: warehouse, ' "$j"
            printf 'table: orders_%d, mode: upsert, key: [id]}}\n' "$j"
        else
            printf '      load: {type: noop, depends_on: [transform]}\n'
        fi
        printf '      check: {type: noop, depends_on: [load]}\n'
        printf '      publish: {type: noop, depends_on: [check]}\n'
    done
} >"$dir/sluice.yaml"
"$build_dir/sluice" migrate -c "$dir/sluice.yaml" >/dev/null

# JSON columns are jsonb on PostgreSQL (a text expression needs the cast), text on SQLite.
j=; [[ $kind == postgres ]] && j=::jsonb
# The rows, in terms of seq(i) = 1..RUNS. Times in microseconds; run i was created at
# BASE + i minutes, started a second later and ran (i % 300 + 5) seconds.
seed_end=$(( 1780000000000000 + (runs + 1) * 60000000 ))
# Backfill b belongs to job_(b + 99) and owns every 7th run of that job (7 shares no factor with
# 100 jobs, so every job has some); its range is the span of the seeded runs.
read -r -d '' rows <<SQL || true
INSERT INTO backfills (id, job, range_start, range_end, run_order, max_active_runs, reprocess,
    state, progress, created_at, updated_at, reprocess_mode, planned, steps, skipped,
    cursor_time, actor, params)
SELECT i, 'job_' || (i + 99), 1780000000000000, $seed_end, 'oldest_first', 1, (1 = 0),
    CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END, '{}'$j, 1780000000000000, $seed_end,
    'none', $runs / $jobs / 7, $runs / $jobs / 7, 0, $seed_end, 'api:seed', '{}'$j
FROM seq WHERE i <= $jobs;
INSERT INTO runs (id, job, run_key, trigger_kind, params, logical_time, data_interval_start,
    data_interval_end, backfill_id, state, created_at, started_at, finished_at)
SELECT i, 'job_' || ((i - 1) % $jobs + 100), 'seed:' || i,
    CASE WHEN i % 7 = 0 THEN 'backfill' ELSE 'manual' END, '{}'$j,
    CASE WHEN i % 7 = 0 THEN 1780000000000000 + i * 60000000 END,
    CASE WHEN i % 7 = 0 THEN 1780000000000000 + i * 60000000 END,
    CASE WHEN i % 7 = 0 THEN 1780000000000000 + (i + 1) * 60000000 END,
    CASE WHEN i % 7 = 0 THEN (i - 1) % $jobs + 1 END,
    CASE WHEN i % 23 = 0 THEN 'failed' ELSE 'success' END,
    1780000000000000 + i * 60000000, 1780000001000000 + i * 60000000,
    1780000001000000 + i * 60000000 + (i % 300 + 5) * 1000000
FROM seq;
INSERT INTO task_instances (id, run_id, job, task, state, try_number, max_tries, lease_epoch,
    queued_at, started_at, finished_at, error_class, error_message, metrics)
SELECT (i - 1) * 5 + k, i, 'job_' || ((i - 1) % $jobs + 100),
    CASE k WHEN 1 THEN 'extract' WHEN 2 THEN 'transform' WHEN 3 THEN 'load' WHEN 4 THEN 'check'
        ELSE 'publish' END,
    CASE WHEN i % 23 <> 0 OR k < 3 THEN 'success' WHEN k = 3 THEN 'failed'
        ELSE 'upstream_failed' END,
    CASE WHEN i % 23 = 0 AND k = 3 THEN 2 WHEN i % 23 = 0 AND k > 3 THEN 0 ELSE 1 END,
    2, 1, 1780000001000000 + i * 60000000, 1780000001000000 + i * 60000000 + k * 1000000,
    1780000001000000 + i * 60000000 + k * 1000000 + 500000,
    CASE WHEN i % 23 = 0 AND k = 3 THEN 'permanent' END,
    CASE WHEN i % 23 = 0 AND k = 3 THEN 'exit status 1' END,
    (CASE WHEN k = 3 AND (i - 1) % $jobs < $copies THEN '{"rows_read":' || (i % 997 * 40)
        || ',"rows_written":' || (i % 997 * 40) || ',"batches":' || (i % 997 / 25 + 1)
        || ',"rows_per_second":' || (i % 997 * 80) || ',"lag_seconds":' || (i % 60)
        || ',"mark":["' || i || '"]}' ELSE '{}' END)$j
FROM seq, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
    UNION ALL SELECT 5) ks;
INSERT INTO task_attempts (task_instance_id, try_number, state, started_at, finished_at,
    error_class, error_message, metrics)
SELECT (i - 1) * 5 + 3, 1, 'up_for_retry', 1780000001000000 + i * 60000000,
    1780000001500000 + i * 60000000, 'transient', 'connection reset', '{}'$j
FROM seq WHERE i % 23 = 0;
INSERT INTO events (created_at, kind, job, run_id, task, payload, actor)
SELECT 1780000000000000 + i * 60000000 + s * 1000000, 'run.state',
    'job_' || ((i - 1) % $jobs + 100), i, NULL,
    (CASE s WHEN 0 THEN '{"from":null,"to":"queued"}' WHEN 1 THEN '{"from":"queued","to":"running"}'
        ELSE CASE WHEN i % 23 = 0 THEN '{"from":"running","to":"failed"}'
            ELSE '{"from":"running","to":"success"}' END END)$j, 'scheduler'
FROM seq, (SELECT 0 AS s UNION ALL SELECT 1 UNION ALL SELECT 2) ss
ORDER BY i, s;
INSERT INTO variables (key, value, secret, updated_at)
SELECT 'var_' || i, CASE WHEN i % 10 = 0 THEN 'hidden' ELSE 'value of var_' || i END,
    (i % 10 = 0), 1780000000000000 + i * 60000000
FROM seq WHERE i <= 200;
SQL

# 10 MiB of log on the newest run's extract: 86,000 lines of 121 characters (under the text
# log's 100,000-line bound, so the page gets all of it).
log_lines=86000
started=$(date +%s.%N)
if [[ $kind == sqlite ]]; then
    sqlite3 "$dir/sluice.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE seq AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < $runs) SELECT i FROM n;
$rows
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $log_lines)
INSERT INTO task_logs (task_instance_id, try_number, logged_at, stream, line)
SELECT ($runs - 1) * 5 + 1, 1, 1780000001000000 + $runs * 60000000 + i,
    'stdout', printf('%08d extract: row batch %-93s', i, 'ok') FROM n;
COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
else
    psql "$url" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
CREATE TEMP TABLE seq AS SELECT generate_series(1, $runs)::bigint AS i;
$rows
INSERT INTO task_logs (task_instance_id, try_number, logged_at, stream, line)
SELECT ($runs - 1) * 5 + 1, 1, 1780000001000000 + $runs::bigint * 60000000 + n, 'stdout',
    lpad(n::text, 8, '0') || ' extract: row batch ' || rpad('ok', 93)
FROM generate_series(1, $log_lines) n;
SELECT setval(pg_get_serial_sequence('runs', 'id'), (SELECT max(id) FROM runs));
SELECT setval(pg_get_serial_sequence('backfills', 'id'), (SELECT max(id) FROM backfills));
SELECT setval(pg_get_serial_sequence('task_instances', 'id'), (SELECT max(id) FROM task_instances));
COMMIT;
VACUUM ANALYZE;
SQL
fi
ended=$(date +%s.%N)
echo "seeded $kind: $runs runs of $jobs jobs in $(printf '%.1f' "$(echo "$ended - $started" | bc)") s;" \
    "config $dir/sluice.yaml" >&2
echo "$dir/sluice.yaml"
