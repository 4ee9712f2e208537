#!/usr/bin/env bash
# The store's size per 100,000 runs (docs/operations.md, "Retention"): RUNS finished single-task
# noop runs with their events, written and run by dispatch_bench on a fresh SQLite file and a
# fresh PostgreSQL database (SLUICE_TEST_PG_URL, from scripts/test-servers.sh). Task log lines
# come on top: about LINE_BYTES each, measured here with 100 lines of 80 characters per run on
# a tenth of the runs. Prints one JSON object per store.
# Usage: bench/store_size.sh BUILD_DIR [RUNS]
set -euo pipefail
build_dir=$(cd "${1:?usage: bench/store_size.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-100000}
: "${SLUICE_TEST_PG_URL:?start scripts/test-servers.sh and export its env first}"
for tool in psql sqlite3; do
    command -v "$tool" >/dev/null || { echo "store_size: $tool is missing" >&2; exit 2; }
done
work=$(mktemp -d)
db="sluice_size_$(date +%s)_$RANDOM"
cleanup() {
    psql "$SLUICE_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# SQLite: the file after a checkpoint (the WAL folded in).
"$build_dir/bench/dispatch_bench" --store "sqlite://$work/sluice.db" --runs "$runs" --chain 0 \
    --workers 64 --max-active-runs 64 >/dev/null
sqlite3 "$work/sluice.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
sqlite_runs=$(stat -c %s "$work/sluice.db")
# Log lines: 100 lines of 80 characters for a tenth of the task instances.
sqlite3 "$work/sluice.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
  INSERT INTO task_logs (task_instance_id, try_number, logged_at, stream, line)
  SELECT t.id, 1, 0, 'stdout', printf('%080d', n.i) FROM task_instances t, n WHERE t.id % 10 = 0;
  PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
sqlite_lines=$(sqlite3 "$work/sluice.db" 'SELECT count(*) FROM task_logs')
sqlite_with_logs=$(stat -c %s "$work/sluice.db")
echo "{\"store\":\"sqlite\",\"runs\":$runs,\"bytes\":$sqlite_runs,\"log_lines\":$sqlite_lines," \
    "\"bytes_with_logs\":$sqlite_with_logs}"

# PostgreSQL: pg_database_size after VACUUM (dead tuples of the runs' state changes removed).
psql "$SLUICE_TEST_PG_URL" -qc "CREATE DATABASE $db"
pg_url="${SLUICE_TEST_PG_URL%/*}/$db"
"$build_dir/bench/dispatch_bench" --store "$pg_url" --runs "$runs" --chain 0 \
    --workers 64 --max-active-runs 64 >/dev/null
psql "$pg_url" -qc 'VACUUM' >/dev/null
pg_runs=$(psql "$pg_url" -Atc 'SELECT pg_database_size(current_database())')
psql "$pg_url" -qc "INSERT INTO task_logs (task_instance_id, try_number, logged_at, stream, line)
  SELECT t.id, 1, 0, 'stdout', lpad(n::text, 80, '0') FROM task_instances t,
  generate_series(1, 100) n WHERE t.id % 10 = 0" >/dev/null
psql "$pg_url" -qc 'VACUUM' >/dev/null
pg_lines=$(psql "$pg_url" -Atc 'SELECT count(*) FROM task_logs')
pg_with_logs=$(psql "$pg_url" -Atc 'SELECT pg_database_size(current_database())')
echo "{\"store\":\"postgresql\",\"runs\":$runs,\"bytes\":$pg_runs,\"log_lines\":$pg_lines," \
    "\"bytes_with_logs\":$pg_with_logs}"
