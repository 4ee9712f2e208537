#!/usr/bin/env bash
# The cost of `deletes: detect` (docs/etl.md, "Deleted rows"): a ROWS-row PostgreSQL table copied
# with `mode: upsert, deletes: detect` into PostgreSQL and into ClickHouse, then 1,000 rows
# deleted at the source; the next `sluice run` (nothing new to copy, so its time is the delete
# pass: every key of both tables compared in pages of 10,000, the 1,000 deleted) and one more
# run with nothing deleted are timed end to end (wall clock, process start to exit), next to a
# full refresh (`mode: replace`) of the same table, the other way to drop deleted rows. No peer
# tool detects hard deletes without change data capture, so there is no peer run.
#
# Usage: bench/etl_deletes_bench.sh BUILD_DIR [ROWS]   (default ROWS 1000000)
# Needs the test servers' environment (SLUICE_TEST_PG_URL, SLUICE_TEST_CLICKHOUSE_URL):
# scripts/run-bench.sh starts them and calls this script. Prints one JSON object per measurement.
set -euo pipefail

build_dir=$(cd "${1:?usage: bench/etl_deletes_bench.sh BUILD_DIR [ROWS]}" && pwd)
rows=${2:-1000000}
deleted=1000
sluice="$build_dir/sluice"
for var in SLUICE_TEST_PG_URL SLUICE_TEST_CLICKHOUSE_URL; do
    [[ -n "${!var:-}" ]] || { echo "etl_deletes: $var is not set (scripts/run-bench.sh)" >&2; exit 2; }
done
for tool in psql curl bc; do
    command -v "$tool" >/dev/null ||
        { echo "etl_deletes: $tool is missing (scripts/install-deps.sh bench)" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pg=$SLUICE_TEST_PG_URL
ch_http=${SLUICE_TEST_CLICKHOUSE_URL%%\?*}
ch_db=${SLUICE_TEST_CLICKHOUSE_URL##*database=}
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$pg" -qAtX -v ON_ERROR_STOP=1 "$@"; }
ch_q() { curl -fsS "$ch_http?database=$ch_db" --data-binary "$1"; }
now() { date +%s.%N; }
report() {  # case seconds
    printf '{"bench":"etl_deletes","case":"%s","rows":%s,"seconds":%.3f}\n' "$1" "$rows" "$2"
}

echo "etl_deletes: filling bench_del_src with $rows rows" >&2
psql_q <<SQL
DROP TABLE IF EXISTS bench_del_src, bench_del_pg, bench_del_replace;
CREATE TABLE bench_del_src (id bigint PRIMARY KEY, a integer, b text, updated_at timestamptz NOT NULL);
INSERT INTO bench_del_src SELECT g, g % 100000, md5(g::text),
    timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, $rows) g;
VACUUM ANALYZE bench_del_src;
SQL
ch_q "DROP TABLE IF EXISTS bench_del_ch"

# Job names of their own: the marks live in the sinks' sluice_checkpoints, keyed by job.
run_id=$(date +%s)$$
cat >"$work/bench.yaml" <<YAML
store: {url: "sqlite://$work/store.db"}
connections:
  pg: {type: postgres, url: "\${env:SLUICE_TEST_PG_URL}"}
  ch: {type: clickhouse, url: "\${env:SLUICE_TEST_CLICKHOUSE_URL}"}
jobs:
  to-pg-$run_id:
    tasks:
      copy:
        type: copy
        source: {connection: pg, table: bench_del_src, cursor: [updated_at, id]}
        sink: {connection: pg, table: bench_del_pg, mode: upsert, key: [id]}
        create_table: if_missing
        deletes: detect
  to-clickhouse-$run_id:
    tasks:
      copy:
        type: copy
        source: {connection: pg, table: bench_del_src, cursor: [updated_at, id]}
        sink: {connection: ch, table: bench_del_ch, mode: upsert, key: [id]}
        create_table: if_missing
        deletes: detect
  refresh-pg-$run_id:
    tasks:
      copy:
        type: copy
        source: {connection: pg, table: bench_del_src}
        sink: {connection: pg, table: bench_del_replace, mode: replace, key: [id]}
YAML
"$sluice" validate -c "$work/bench.yaml" >/dev/null

run_sluice() {  # job -> seconds
    local t0 t1
    t0=$(now)
    "$sluice" run -c "$work/bench.yaml" "$1" >"$work/$1.log" 2>&1 ||
        { echo "etl_deletes: sluice run $1 failed:" >&2; tail -n 20 "$work/$1.log" >&2; exit 1; }
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
check() {  # what actual expected
    [[ "$2" == "$3" ]] || { echo "etl_deletes: $1 is $2, expected $3" >&2; exit 1; }
}
pg_live() { psql_q -c "SELECT count(*) FROM bench_del_pg"; }
ch_live() { ch_q "SELECT count() FROM bench_del_ch FINAL WHERE _deleted = 0" | tr -d '\n'; }

report "pg->pg initial upsert copy" "$(run_sluice "to-pg-$run_id")"
report "pg->clickhouse initial upsert copy" "$(run_sluice "to-clickhouse-$run_id")"
check "bench_del_pg" "$(pg_live)" "$rows"
check "bench_del_ch" "$(ch_live)" "$rows"

# Every (rows/1000)-th key leaves the source, spread over the whole key range.
step=$((rows / deleted))
psql_q -c "DELETE FROM bench_del_src WHERE id % $step = 0"
left=$(psql_q -c "SELECT count(*) FROM bench_del_src")

t=$(run_sluice "to-pg-$run_id")
check "bench_del_pg after the pass" "$(pg_live)" "$left"
grep -q "$((rows - left)) row(s) deleted" "$work/to-pg-$run_id.log" ||
    { echo "etl_deletes: to-pg did not report its deletions:" >&2; tail -n 5 "$work/to-pg-$run_id.log" >&2; exit 1; }
report "pg->pg delete pass, $((rows - left)) deleted" "$t"
t=$(run_sluice "to-clickhouse-$run_id")
check "bench_del_ch after the pass" "$(ch_live)" "$left"
report "pg->clickhouse delete pass, $((rows - left)) deleted" "$t"

report "pg->pg delete pass, nothing deleted" "$(run_sluice "to-pg-$run_id")"
report "pg->clickhouse delete pass, nothing deleted" "$(run_sluice "to-clickhouse-$run_id")"
report "pg->pg full refresh (mode: replace)" "$(run_sluice "refresh-pg-$run_id")"

psql_q -c "DROP TABLE IF EXISTS bench_del_src, bench_del_pg, bench_del_replace"
ch_q "DROP TABLE bench_del_ch"
