#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each, in parallel, under ASan+UBSan.
# Corpora live in BUILD_DIR/corpus/NAME, seeded from tests/fuzz/seeds/NAME and examples/.
# Usage: scripts/run-fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
build_dir=${1:-build-fuzz}
seconds=${2:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

pids=()
for name in cron_fuzz config_fuzz http_fuzz; do
    corpus="$build_dir/corpus/$name"
    mkdir -p "$corpus"
    if [[ -d "$root/tests/fuzz/seeds/$name" ]]; then
        cp -n "$root/tests/fuzz/seeds/$name"/* "$corpus"/ 2>/dev/null || true
    fi
    if [[ $name == config_fuzz ]]; then
        cp -n "$root"/examples/*.yaml "$corpus"/ 2>/dev/null || true
    fi
    extra=()
    if [[ -f "$root/tests/fuzz/${name%_fuzz}.dict" ]]; then
        extra+=(-dict="$root/tests/fuzz/${name%_fuzz}.dict")
    fi
    # An input that runs 30 s is a hang, saved as a timeout-* artifact (libFuzzer's default is
    # 1200 s, longer than a run: config_fuzz once hung for 13 minutes unreported). For
    # http_fuzz, a slow input is the server's 2 s read deadline, well inside it.
    extra+=(-timeout=30)
    echo "fuzz: $name for ${seconds}s (log: $build_dir/$name.log)"
    "$build_dir/tests/fuzz/$name" -max_total_time="$seconds" -print_final_stats=1 \
        -max_len=4096 "${extra[@]}" "$corpus" >"$build_dir/$name.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
for name in cron_fuzz config_fuzz http_fuzz; do
    echo "== $name"; grep -E "^(stat::|Done|==[0-9]+==ERROR|SUMMARY)" "$build_dir/$name.log" || true
done
exit $status
