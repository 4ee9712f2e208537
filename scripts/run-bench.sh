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
    echo "== $name"
    "$bench" --benchmark_out="$out/$name.json" --benchmark_out_format=json
done

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
