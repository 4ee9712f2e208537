#!/usr/bin/env bash
# The admin page at size (docs/benchmarks.md#admin-page): seeds a store with bench/seed_ui.sh
# (100 jobs, 100,000 finished runs), serves it with the real binary, times the API calls the page
# makes with curl (REPEATS each after one warm-up, median and max in ms), then, unless
# SKIP_BROWSER=1, runs bench/ui_browser_bench.mjs (first render of every view, longest task
# while scrolling). Prints JSON lines.
# Usage: bench/ui_bench.sh BUILD_DIR sqlite|postgres [RUNS] [REPEATS]
set -euo pipefail
build_dir=$(cd "${1:?usage: bench/ui_bench.sh BUILD_DIR sqlite|postgres [RUNS] [REPEATS]}" && pwd)
kind=${2:?sqlite or postgres}
runs=${3:-100000}
repeats=${4:-9}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    [[ $kind == postgres && -f $work/pg_url ]] && "$here/seed_ui.sh" drop "$work" || true
    rm -rf "$work"
}
trap cleanup EXIT

config=$("$here/seed_ui.sh" "$build_dir" "$work" "$kind" "$runs" 100 "$port")
(cd "$work" && exec "$build_dir/sluice" serve -c "$config" >"$work/serve.log" 2>&1) &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }

# The newest failed run (every 23rd; jobs take turns, so it belongs to job_(run-1)%100+100).
run=$(( runs / 23 * 23 ))
job="job_$(( (run - 1) % 100 + 100 ))"
# As the page asks: JSON (GET /api/v1/events is otherwise the event stream, which never ends).
json=(-H 'Accept: application/json')
time_ms() {  # median and max of REPEATS timed GETs, after one warm-up
    curl -sf "${json[@]}" -o /dev/null "$base$1"
    for _ in $(seq 1 "$repeats"); do
        curl -s "${json[@]}" -o /dev/null -w '%{time_total}\n' "$base$1"
    done | sort -n | awk '{ t[NR] = $1 * 1000 } END {
        m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
        printf "{\"median_ms\":%.1f,\"max_ms\":%.1f}", m, t[NR] }'
}
for path in "/api/v1/jobs" "/api/v1/jobs/$job" "/api/v1/jobs/$job/grid?limit=25" \
    "/api/v1/runs?limit=50" "/api/v1/runs?job=$job&limit=50" "/api/v1/runs?state=failed&limit=8" \
    "/api/v1/runs/$run" "/api/v1/runs/$runs/tasks/extract/logs" \
    "/api/v1/runs/$runs/tasks/extract/logs?format=json&tail=500" \
    "/api/v1/runs/$runs/tasks/extract/logs?format=json&from=40001&limit=500" \
    "/api/v1/runs/$runs/tasks/extract/logs?format=json&limit=200&q=needle" \
    "/api/v1/schedule?hours=24" "/api/v1/copies" "/api/v1/backfills?limit=100" \
    "/api/v1/backfills/1" "/api/v1/events?order=newest_first&limit=100" "/api/v1/variables"; do
    echo "{\"store\":\"$kind\",\"runs\":$runs,\"get\":\"$path\",\"bytes\":$(curl -s "${json[@]}" "$base$path" | wc -c),$(time_ms "$path" | tr -d '{')"
done
# For comparison, the grid as the page read it before GET .../grid: the job's 25 newest runs,
# then each run's detail: 26 calls, one after the other on one curl (the sum of their times),
# REPEATS times.
ids=$(curl -s "$base/api/v1/runs?job=$job&limit=25" | grep -o '"id":[0-9]*' | cut -d: -f2)
urls=("$base/api/v1/runs?job=$job&limit=25")
for id in $ids; do urls+=("$base/api/v1/runs/$id"); done
for _ in $(seq 1 "$repeats"); do
    curl -s -w '%{time_total}\n' $(printf -- '-o /dev/null %s ' "${urls[@]}") |
        awk '{ s += $1 } END { printf "%d\n", s * 1000000 }'
done | sort -n | awk -v kind="$kind" -v runs="$runs" '{ t[NR] = $1 / 1000 } END {
    m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
    printf "{\"store\":\"%s\",\"runs\":%d,\"get\":\"grid as 26 calls (runs list + 25 run details)\",\"median_ms\":%.1f,\"max_ms\":%.1f}\n", kind, runs, m, t[NR] }'
if [[ ${SKIP_BROWSER:-0} != 1 ]]; then
    # The task log page shows the newest run's 10 MiB log: point the browser at that run.
    node "$here/ui_browser_bench.mjs" "$base" "job_$(( (runs - 1) % 100 + 100 ))" "$runs" 5 |
        sed "s/^/$kind: /"
fi
