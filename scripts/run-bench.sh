#!/usr/bin/env bash
# Runs the Google Benchmark programs of a build tree (with the test servers running); results
# also saved as JSON under BUILD_DIR/bench-results/ for docs/benchmarks.md.
set -euo pipefail
build_dir=${1:-build}
out="$build_dir/bench-results"
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)

# The ETL benchmarks read and write real databases: a throwaway server set, as for the tests.
SLUICE_TEST_SERVERS_STATE="$(cd "$build_dir" && pwd)/bench-servers.state"
export SLUICE_TEST_SERVERS_STATE
trap '"$here/test-servers.sh" stop' EXIT
"$here/test-servers.sh" start >/dev/null
set -a
# shellcheck disable=SC1090
source <("$here/test-servers.sh" env)
set +a
for bench in "$build_dir"/bench/*_bench; do
    name=$(basename "$bench")
    [[ $name == dispatch_bench ]] && continue  # not a Google Benchmark program: below
    echo "== $name"
    "$bench" --benchmark_out="$out/$name.json" --benchmark_out_format=json
done

# Durable dispatch (docs/benchmarks.md): 20,000 queued single-task noop runs (with the default 8
# workers and 256 active runs, and with as many workers as active runs, where every task starts
# in the commit that queues it) and a 1,000-task noop chain, each on a fresh store: a new
# PostgreSQL database, and a new SQLite file.
echo "== dispatch_bench"
stamp=$(date +%s)
pg_base=${SLUICE_TEST_PG_URL%/*}
for scenario in "--runs 20000 --chain 0" "--runs 20000 --chain 0 --workers 256 --max-active-runs 256" \
    "--runs 0 --chain 1000"; do
    db="sluice_bench_${stamp}_$RANDOM"
    psql "$SLUICE_TEST_PG_URL" -qc "CREATE DATABASE $db"
    # shellcheck disable=SC2086
    "$build_dir/bench/dispatch_bench" --store "$pg_base/$db" $scenario | tee -a "$out/dispatch_bench.jsonl"
    psql "$SLUICE_TEST_PG_URL" -qc "DROP DATABASE $db"
    sqlite_dir=$(mktemp -d)
    # shellcheck disable=SC2086
    "$build_dir/bench/dispatch_bench" --store "sqlite://$sqlite_dir/sluice.db" $scenario |
        tee -a "$out/dispatch_bench.jsonl"
    rm -rf "$sqlite_dir"
done

# The store's size per 100,000 finished runs, with and without log lines (docs/operations.md).
echo "== store_size"
"$here/../bench/store_size.sh" "$build_dir" | tee "$out/store_size.jsonl"

# ETL against its peers (psql COPY pipe, clickhouse-client, pgloader) on a 5-million-row table.
echo "== etl_peers"
"$here/../bench/etl_peers.sh" "$build_dir" "${SLUICE_BENCH_PEER_ROWS:-5000000}" |
    tee "$out/etl_peers.jsonl"

# The cost of `deletes: detect` on a 1-million-row table (docs/etl.md, "Deleted rows").
echo "== etl_deletes"
"$here/../bench/etl_deletes_bench.sh" "$build_dir" | tee "$out/etl_deletes.jsonl"

# The service from outside: the real `sluice serve` over HTTP, on a PostgreSQL of its own with
# stock durability (fsync on) and on SQLite, and graphile-worker, pg-boss and DBOS (bench/peers,
# installed with `npm ci` as pinned) on the same PostgreSQL in the same run
# (docs/benchmarks.md, "Service").
echo "== service_bench"
"$here/../bench/service_bench.sh" "$build_dir" | tee "$out/service_bench.jsonl"

# Peers, same expressions and zones (bench/peers): croner, the reference for our DST rules.
if command -v node >/dev/null && command -v npm >/dev/null; then
    peers="$(dirname "$0")/../bench/peers"
    [[ -d "$peers/node_modules/croner" ]] || (cd "$peers" && npm ci --silent --no-audit --no-fund)
    echo "== croner (node)"
    node "$peers/croner_bench.mjs" 200000 | tee "$out/croner_bench.jsonl"
else
    echo "run-bench: node/npm missing, peer benchmarks skipped (apt-get install nodejs npm)" >&2
    exit 1
fi
