#!/usr/bin/env bash
# ETL speed against the tools our users would otherwise reach for (docs/benchmarks.md): the same
# 12-column table of ROWS rows copied
#   PostgreSQL -> PostgreSQL  by `psql COPY TO STDOUT | psql COPY FROM STDIN`  and by sluice,
#   PostgreSQL -> ClickHouse  by `psql COPY TO STDOUT | clickhouse-client INSERT FORMAT TSV`
#                             and by sluice,
#   MySQL      -> PostgreSQL  by pgloader and by sluice,
# each timed end to end (wall clock, process start to exit) in the same run on the same servers.
# Sluice runs the real binary: `sluice run -c CONFIG JOB`, one `copy` task per pair.
#
# Usage: bench/etl_peers.sh BUILD_DIR [ROWS]   (default ROWS 5000000)
# Needs the test servers' environment (SLUICE_TEST_PG_URL, SLUICE_TEST_MYSQL_URL,
# SLUICE_TEST_CLICKHOUSE_URL, SLUICE_TEST_CLICKHOUSE_TCP_PORT): scripts/run-bench.sh starts them
# and calls this script. Prints one JSON object per measurement and one per ratio.
set -euo pipefail

build_dir=$(cd "${1:?usage: bench/etl_peers.sh BUILD_DIR [ROWS]}" && pwd)
rows=${2:-5000000}
sluice="$build_dir/sluice"
for var in SLUICE_TEST_PG_URL SLUICE_TEST_MYSQL_URL SLUICE_TEST_CLICKHOUSE_URL \
    SLUICE_TEST_CLICKHOUSE_TCP_PORT; do
    [[ -n "${!var:-}" ]] || { echo "etl_peers: $var is not set (scripts/run-bench.sh)" >&2; exit 2; }
done
for tool in psql mariadb clickhouse-client pgloader curl; do
    command -v "$tool" >/dev/null ||
        { echo "etl_peers: $tool is missing (scripts/install-deps.sh bench)" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pg=$SLUICE_TEST_PG_URL
pg_base=${pg%/*}
[[ $SLUICE_TEST_MYSQL_URL =~ ^mysql://([^:]+):([^@]*)@([^:/]+):([0-9]+)/(.+)$ ]] ||
    { echo "etl_peers: cannot parse SLUICE_TEST_MYSQL_URL" >&2; exit 2; }
my_user=${BASH_REMATCH[1]} my_pass=${BASH_REMATCH[2]} my_host=${BASH_REMATCH[3]}
my_port=${BASH_REMATCH[4]} my_db=${BASH_REMATCH[5]}
ch_http=${SLUICE_TEST_CLICKHOUSE_URL%%\?*}
ch_db=${SLUICE_TEST_CLICKHOUSE_URL##*database=}

psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$pg" -qAtX -v ON_ERROR_STOP=1 "$@"; }
my_q() {
    MYSQL_PWD=$my_pass mariadb --local-infile=1 -h "$my_host" -P "$my_port" -u "$my_user" \
        "$my_db" "$@"
}
ch_q() { curl -fsS "$ch_http?database=$ch_db" --data-binary "$1"; }
ch_client() {
    clickhouse-client --host 127.0.0.1 --port "$SLUICE_TEST_CLICKHOUSE_TCP_PORT" \
        --database "$ch_db" "$@"
}
now() { date +%s.%N; }
report() {  # name seconds
    printf '{"bench":"etl_peers","case":"%s","rows":%s,"seconds":%.3f,"rows_per_s":%.0f}\n' \
        "$1" "$rows" "$2" "$(echo "$rows / $2" | bc -l)"
}
ratio() {  # name sluice_seconds peer_seconds
    printf '{"bench":"etl_peers","ratio":"%s","sluice_over_peer_throughput":%.2f}\n' \
        "$1" "$(echo "$3 / $2" | bc -l)"
}
count_pg() { psql_q -c "SELECT count(*) FROM $1"; }

# ---- the source table, the same rows in PostgreSQL and MariaDB ----
columns_pg="(id bigint PRIMARY KEY, a integer, b bigint, c numeric(12,2), d double precision,
    e text, f text, g timestamptz, h date, i boolean, j real, k text)"
columns_my="(id BIGINT PRIMARY KEY, a INT, b BIGINT, c DECIMAL(12,2), d DOUBLE, e VARCHAR(64),
    f VARCHAR(64), g DATETIME(6), h DATE, i BOOLEAN, j FLOAT, k VARCHAR(64))"
columns_ch="(id Int64, a Int32, b Int64, c Decimal(12,2), d Float64, e String, f String,
    g DateTime, h Date, i UInt8, j Float32, k String)"
# The text the peers pipe: booleans as 0/1 and timestamps in UTC without an offset, which
# MariaDB's LOAD DATA and ClickHouse's TSV parser take.
select_text="SELECT id, a, b, c, d, e, f, to_char(g AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
    h, i::int, j, k FROM bench_peer_src"

echo "etl_peers: filling bench_peer_src with $rows rows" >&2
psql_q <<SQL
DROP TABLE IF EXISTS bench_peer_src, bench_peer_psql, bench_peer_sluice, bench_peer_from_my;
CREATE TABLE bench_peer_src $columns_pg;
INSERT INTO bench_peer_src SELECT g, g % 100000, g::bigint * 7919, (g % 100000) / 100.0, g / 3.0,
    md5(g::text), 'customer-' || (g % 5000), timestamptz '2026-01-01' + g * interval '1 second',
    date '2020-01-01' + (g % 2000), g % 2 = 0, (g % 1000) / 7.0, repeat('x', 20 + g % 20)
    FROM generate_series(1, $rows) g;
VACUUM ANALYZE bench_peer_src;
CREATE TABLE bench_peer_psql $columns_pg;
CREATE TABLE bench_peer_sluice $columns_pg;
SQL
psql_q -c "COPY ($select_text) TO STDOUT" >"$work/src.tsv"
my_q <<SQL
DROP TABLE IF EXISTS bench_peer_src;
CREATE TABLE bench_peer_src $columns_my;
LOAD DATA LOCAL INFILE '$work/src.tsv' INTO TABLE bench_peer_src;
SQL
rm -f "$work/src.tsv"
for t in bench_peer_ch_client bench_peer_ch_sluice; do
    ch_q "DROP TABLE IF EXISTS $t"
    ch_q "CREATE TABLE $t $columns_ch ENGINE = MergeTree ORDER BY id"
done

# ---- sluice's configuration: one copy task per pair, SQLite run-state store ----
cat >"$work/bench.yaml" <<YAML
store: {url: "sqlite://$work/store.db"}
workers: 2
connections:
  pg: {type: postgres, url: "\${env:SLUICE_TEST_PG_URL}"}
  my: {type: mysql, url: "\${env:SLUICE_TEST_MYSQL_URL}"}
  ch: {type: clickhouse, url: "\${env:SLUICE_TEST_CLICKHOUSE_URL}"}
jobs:
  pg-to-pg:
    tasks:
      copy:
        type: copy
        source: {connection: pg, table: bench_peer_src}
        sink: {connection: pg, table: bench_peer_sluice, mode: append}
        batch_rows: 50000
  pg-to-clickhouse:
    tasks:
      copy:
        type: copy
        source: {connection: pg, table: bench_peer_src}
        sink: {connection: ch, table: bench_peer_ch_sluice, mode: append}
        batch_rows: 200000
  mysql-to-pg:
    tasks:
      copy:
        type: copy
        source: {connection: my, table: bench_peer_src}
        sink: {connection: pg, table: bench_peer_from_my, mode: append}
        create_table: if_missing
        batch_rows: 50000
YAML
"$sluice" validate -c "$work/bench.yaml" >/dev/null

run_sluice() {  # job -> seconds
    local t0 t1
    t0=$(now)
    "$sluice" run -c "$work/bench.yaml" "$1" >"$work/$1.log" 2>&1 ||
        { echo "etl_peers: sluice run $1 failed:" >&2; tail -n 20 "$work/$1.log" >&2; exit 1; }
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
check_rows() {  # what actual
    [[ "$2" == "$rows" ]] || { echo "etl_peers: $1 holds $2 rows, expected $rows" >&2; exit 1; }
}

# ---- PostgreSQL -> PostgreSQL ----
t0=$(now)
psql_q -c "COPY bench_peer_src TO STDOUT" | psql_q -c "COPY bench_peer_psql FROM STDIN"
t_psql=$(echo "$(now) - $t0" | bc -l)
check_rows bench_peer_psql "$(count_pg bench_peer_psql)"
report "pg->pg psql COPY pipe" "$t_psql"
t_sluice=$(run_sluice pg-to-pg)
check_rows bench_peer_sluice "$(count_pg bench_peer_sluice)"
report "pg->pg sluice copy" "$t_sluice"
ratio "pg->pg sluice / psql pipe" "$t_sluice" "$t_psql"

# ---- PostgreSQL -> ClickHouse ----
t0=$(now)
psql_q -c "COPY ($select_text) TO STDOUT" |
    ch_client --query "INSERT INTO bench_peer_ch_client FORMAT TSV"
t_ch=$(echo "$(now) - $t0" | bc -l)
check_rows bench_peer_ch_client "$(ch_q "SELECT count() FROM bench_peer_ch_client")"
report "pg->clickhouse psql | clickhouse-client" "$t_ch"
t_sluice=$(run_sluice pg-to-clickhouse)
check_rows bench_peer_ch_sluice "$(ch_q "SELECT count() FROM bench_peer_ch_sluice")"
report "pg->clickhouse sluice copy" "$t_sluice"
ratio "pg->clickhouse sluice / psql|clickhouse-client" "$t_sluice" "$t_ch"

# ---- MySQL -> PostgreSQL ----
loader_db="bench_pgloader_$$"
psql_q -c "CREATE DATABASE $loader_db"
cat >"$work/pgloader.load" <<LOAD
LOAD DATABASE
  FROM mysql://$my_user:$my_pass@$my_host:$my_port/$my_db
  INTO $pg_base/$loader_db
  INCLUDING ONLY TABLE NAMES MATCHING 'bench_peer_src'
  ALTER SCHEMA '$my_db' RENAME TO 'public';
LOAD
t0=$(now)
pgloader --quiet "$work/pgloader.load" >"$work/pgloader.log" 2>&1 ||
    { echo "etl_peers: pgloader failed:" >&2; tail -n 30 "$work/pgloader.log" >&2; exit 1; }
t_loader=$(echo "$(now) - $t0" | bc -l)
loaded=$(psql "$pg_base/$loader_db" -qAtX -c "SELECT count(*) FROM bench_peer_src")
psql_q -c "DROP DATABASE $loader_db" >/dev/null
check_rows "pgloader's bench_peer_src" "$loaded"
report "mysql->pg pgloader" "$t_loader"
t_sluice=$(run_sluice mysql-to-pg)
check_rows bench_peer_from_my "$(count_pg bench_peer_from_my)"
report "mysql->pg sluice copy" "$t_sluice"
ratio "mysql->pg sluice / pgloader" "$t_sluice" "$t_loader"

psql_q -c "DROP TABLE IF EXISTS bench_peer_src, bench_peer_psql, bench_peer_sluice, bench_peer_from_my"
my_q -e "DROP TABLE bench_peer_src"
ch_q "DROP TABLE bench_peer_ch_client"
ch_q "DROP TABLE bench_peer_ch_sluice"
