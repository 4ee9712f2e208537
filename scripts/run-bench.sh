#!/usr/bin/env bash
# Runs the Google Benchmark programs of a build tree; results also saved as JSON under
# BUILD_DIR/bench-results/ for docs/benchmarks.md.
set -euo pipefail
build_dir=${1:-build}
out="$build_dir/bench-results"
mkdir -p "$out"
for bench in "$build_dir"/bench/*_bench; do
    name=$(basename "$bench")
    echo "== $name"
    "$bench" --benchmark_out="$out/$name.json" --benchmark_out_format=json
done
