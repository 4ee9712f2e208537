#!/usr/bin/env bash
# The service from outside (docs/benchmarks.md, "Service"): the real `sluice serve` driven over
# HTTP, on a PostgreSQL with stock durability (a throwaway cluster of its own, fsync on) and on
# SQLite. Prints one JSON object per measurement:
#   trigger     POST /api/v1/jobs/t/runs with 16 clients (wrk): end-to-end runs/s, HTTP p50/p99
#   latency     trigger to task start at a light rate (50 triggers/s)
#   burst       10,000 jobs each firing once a minute at their own second (167 at every
#               second): lateness from the scheduled time to the task's start, duplicates
#               Both are measured to the noop task's finished_at: stamped once it has run,
#               after every commit its start waited for (its started_at is stamped when the
#               engine decides to start it, which for a run created already started is before
#               the creation commits), so the figure is an upper bound of the real start.
#   startup     `sluice serve` with those 10,000 jobs: process start to /readyz 200
#   idle        1,000 jobs that do not fire: RSS, threads, CPU over 10 s
#   peers       on the same PostgreSQL, right after sluice's trigger cases, graphile-worker,
#               pg-boss and DBOS (bench/peers/service_peers.mjs, each in a fresh database):
#               enqueue-and-run throughput with 16 producers, enqueue to start at 50/s
# Every line has a "system" field: "sluice", or the peer's name.
# Usage: bench/service_bench.sh BUILD_DIR [sqlite|postgres ...]   (default: both)
# Environment: SLUICE_BENCH_TRIGGER_SECONDS (10, also the peers' throughput window),
# SLUICE_BENCH_BURST_SECONDS (65), SLUICE_BENCH_CASES (trigger peers burst idle: which parts
# run; "startup" is the start of "burst" without its 65 s), SLUICE_BENCH_BINARY (another sluice
# binary, for a before/after comparison).
set -euo pipefail

build_dir=$(cd "${1:?usage: bench/service_bench.sh BUILD_DIR [sqlite|postgres ...]}" && pwd)
shift
stores=("$@")
[[ ${#stores[@]} -gt 0 ]] || stores=(postgres sqlite)
sluice=${SLUICE_BENCH_BINARY:-$build_dir/sluice}
trigger_seconds=${SLUICE_BENCH_TRIGGER_SECONDS:-10}
burst_seconds=${SLUICE_BENCH_BURST_SECONDS:-65}
cases=" ${SLUICE_BENCH_CASES:-trigger peers burst idle} "
tools=(curl psql sqlite3 python3 bc)
[[ $cases == *" trigger "* ]] && tools+=(wrk)
[[ $cases == *" peers "* ]] && tools+=(node npm)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null ||
        { echo "service_bench: $tool is missing (scripts/install-deps.sh bench)" >&2; exit 2; }
done
peers_dir=$(cd "$(dirname "$0")/peers" && pwd)
if [[ $cases == *" peers "* ]]; then
    # The peers' packages, exactly as package-lock.json pins them.
    for pkg in graphile-worker pg-boss @dbos-inc/dbos-sdk pg; do
        [[ -d "$peers_dir/node_modules/$pkg" ]] && continue
        (cd "$peers_dir" && npm ci --silent --no-audit --no-fund) >&2
        break
    done
fi

work=$(mktemp -d)
chmod 755 "$work"
pg_dir=""
serve_pid=""
cleanup() {
    [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    # Whatever else is still running in the background (a peer's node processes, which stop
    # their own worker child, wrk, the latency case's curls) goes before its server does.
    local left
    left=$(jobs -p)
    if [[ -n "$left" ]]; then
        # shellcheck disable=SC2086
        kill $left 2>/dev/null || true
        # shellcheck disable=SC2086
        wait $left 2>/dev/null || true
    fi
    if [[ -n "$pg_dir" ]]; then
        as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ---- a PostgreSQL with stock durability (fsync, synchronous_commit and full_page_writes on) ----
start_postgres() {
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    pg_dir="$work/pg"
    mkdir -p "$pg_dir"
    [[ $(id -u) -eq 0 ]] && { id postgres >/dev/null 2>&1 || useradd --system postgres; chown postgres "$pg_dir"; }
    as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U sluice --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$pg_dir/initdb.log" 2>&1
    pg_port=$((20000 + RANDOM % 40000))
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 start \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir" >/dev/null
    pg_base="postgresql://sluice@127.0.0.1:$pg_port"
}
fresh_store() {  # kind name -> store url
    if [[ $1 == postgres ]]; then
        psql "$pg_base/postgres" -qAtX -c "CREATE DATABASE $2" >/dev/null
        echo "$pg_base/$2"
    else
        echo "sqlite://$work/$2.db"
    fi
}
store_query() {  # url sql -> rows, |-separated
    if [[ $1 == postgresql://* ]]; then
        psql "$1" -qAtX -c "$2"
    else
        sqlite3 "${1#sqlite://}" "$2"
    fi
}

# ---- configurations ----
write_config() {  # file store_url port jobs kind
    local file=$1 url=$2 port=$3 jobs=$4 kind=$5
    {
        echo "server: {listen: \"127.0.0.1:$port\"}"
        echo "store: {url: \"$url\"}"
        [[ $kind == idle ]] || echo "workers: 16"  # idle: the default workers (8)
        echo "jobs:"
        if [[ $kind == trigger ]]; then
            echo "  t:"
            echo "    max_active_runs: 256"
            echo "    tasks: {noop: {type: noop}}"
        fi
        for ((i = 0; i < jobs; i++)); do
            echo "  j$i:"
            if [[ $kind == burst ]]; then
                echo "    schedule: \"$((i % 60)) * * * * *\""
            else
                echo "    schedule: \"0 0 1 1 *\""
            fi
            echo "    tasks: {noop: {type: noop}}"
        done
    } >"$file"
}

now() { date +%s.%N; }
start_serve() {  # config port -> sets serve_pid, ready_seconds
    local t0
    t0=$(now)
    "$sluice" serve -c "$1" >"$work/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 6000); do
        if curl -fs "http://127.0.0.1:$2/readyz" >/dev/null 2>&1; then
            ready_seconds=$(echo "$(now) - $t0" | bc -l)
            return 0
        fi
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.01
    done
    echo "service_bench: sluice serve did not become ready:" >&2
    tail -n 20 "$work/serve.log" >&2
    exit 1
}
stop_serve() {
    kill "$serve_pid"
    wait "$serve_pid" || true
    serve_pid=""
}
# p50, p99 and max of the numbers on stdin (one a line), in milliseconds from microseconds.
percentiles() {
    python3 -c '
import sys
v = sorted(float(x) / 1000.0 for x in sys.stdin if x.strip())
if not v:
    print("null null null 0"); sys.exit()
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print("%.3f %.3f %.3f %d" % (p(0.5), p(0.99), v[-1], len(v)))'
}
# The store writer's commits so far, from /metrics: "count sum_seconds".
commit_totals() {  # port
    curl -fs "http://127.0.0.1:$1/metrics" |
        awk '$1 == "sluice_store_commit_seconds_count" {c = $2} $1 == "sluice_store_commit_seconds_sum" {s = $2} END {print c + 0, s + 0}'
}
wait_all_finished() {  # url
    for _ in $(seq 1 3000); do
        [[ $(store_query "$1" "SELECT count(*) FROM runs WHERE state IN ('queued','running')") == 0 ]] &&
            return 0
        sleep 0.1
    done
    echo "service_bench: runs did not finish" >&2
    exit 1
}

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
LUA

bench_store() {  # kind
    local kind=$1 port url stamp
    stamp=$(date +%s)_$RANDOM

    # -- HTTP trigger throughput, 16 clients --
    if [[ $cases == *" trigger "* ]]; then
    port=$((20000 + RANDOM % 40000))
    url=$(fresh_store "$kind" "trig_$stamp")
    write_config "$work/trigger.yaml" "$url" "$port" 0 trigger
    start_serve "$work/trigger.yaml" "$port"
    local commits_before commits_after
    commits_before=$(commit_totals "$port")
    wrk -t 2 -c 16 -d "${trigger_seconds}s" --latency -s "$work/post.lua" \
        "http://127.0.0.1:$port/api/v1/jobs/t/runs" >"$work/wrk.txt"
    wait_all_finished "$url"
    commits_after=$(commit_totals "$port")
    read -r runs first last failed < <(store_query "$url" \
        "SELECT count(*), min(created_at), max(finished_at), sum(CASE WHEN state = 'success' THEN 0 ELSE 1 END) FROM runs" |
        tr '|' ' ')
    http_p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
    http_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
    # Where the time goes: the group commits the runs took (creation, start, end and the audit
    # records of every run), how long one took, and how many runs one carried on average.
    read -r commits commit_ms < <(echo "$commits_before $commits_after" |
        awk '{n = $3 - $1; printf "%d %.3f\n", n, (n > 0 ? ($4 - $2) * 1000 / n : 0)}')
    printf '{"bench":"service","system":"sluice","store":"%s","case":"trigger","clients":16,"requests":%s,"non_2xx":%s,"runs":%s,"failed":%s,"runs_per_s":%.0f,"http_p50":"%s","http_p99":"%s","commits":%s,"commit_mean_ms":%s,"runs_per_commit":%.1f}\n' \
        "$kind" "$requests" "${non2xx:-0}" "$runs" "$failed" \
        "$(echo "$runs / (($last - $first) / 1000000)" | bc -l)" "$http_p50" "$http_p99" \
        "$commits" "$commit_ms" "$(echo "$runs / ($commits + 0.000001)" | bc -l)"

    # -- trigger to start at 50 triggers/s (same server, new job runs), to the noop's end --
    local before
    before=$(store_query "$url" "SELECT coalesce(max(id), 0) FROM runs")
    for _ in $(seq 1 500); do
        curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
            "http://127.0.0.1:$port/api/v1/jobs/t/runs" &
        sleep 0.02
    done
    wait_all_finished "$url"
    wait $(jobs -p | grep -v "^$serve_pid$") 2>/dev/null || true
    read -r p50 p99 max n < <(store_query "$url" \
        "SELECT t.finished_at - r.created_at FROM runs r JOIN task_instances t ON t.run_id = r.id WHERE r.id > $before" |
        percentiles)
    printf '{"bench":"service","system":"sluice","store":"%s","case":"trigger_to_start","rate_per_s":50,"runs":%s,"p50_ms":%s,"p99_ms":%s,"max_ms":%s}\n' \
        "$kind" "$n" "$p50" "$p99" "$max"
    stop_serve
    fi

    # -- the peers, on this server, in the same minutes as sluice's trigger cases --
    [[ $kind == postgres ]] && bench_peers

    # -- 10,000 jobs: startup, then the once-a-minute burst (the case "startup" stops there) --
    if [[ $cases == *" burst "* || $cases == *" startup "* ]]; then
    port=$((20000 + RANDOM % 40000))
    url=$(fresh_store "$kind" "burst_$stamp")
    write_config "$work/burst.yaml" "$url" "$port" 10000 burst
    start_serve "$work/burst.yaml" "$port"
    local ready_at_us
    ready_at_us=$(date +%s%6N)
    printf '{"bench":"service","system":"sluice","store":"%s","case":"startup","jobs":10000,"seconds_to_ready":%.3f}\n' \
        "$kind" "$ready_seconds"
    [[ $cases == *" burst "* ]] || stop_serve
    fi
    if [[ $cases == *" burst "* ]]; then
    sleep "$burst_seconds"
    stop_serve
    read -r p50 p99 max n < <(store_query "$url" \
        "SELECT t.finished_at - r.logical_time FROM runs r JOIN task_instances t ON t.run_id = r.id WHERE r.logical_time > $ready_at_us + 1000000 AND t.finished_at IS NOT NULL" |
        percentiles)
    local dups
    dups=$(store_query "$url" \
        "SELECT count(*) FROM (SELECT job, logical_time FROM runs GROUP BY job, logical_time HAVING count(*) > 1) d")
    printf '{"bench":"service","system":"sluice","store":"%s","case":"burst","jobs":10000,"runs":%s,"lateness_p50_ms":%s,"lateness_p99_ms":%s,"lateness_max_ms":%s,"duplicates":%s}\n' \
        "$kind" "$n" "$p50" "$p99" "$max" "$dups"
    fi

    # -- idle with 1,000 jobs --
    [[ $cases == *" idle "* ]] || return 0
    port=$((20000 + RANDOM % 40000))
    url=$(fresh_store "$kind" "idle_$stamp")
    write_config "$work/idle.yaml" "$url" "$port" 1000 idle
    start_serve "$work/idle.yaml" "$port"
    sleep 5
    local ticks0 ticks1 rss threads hz
    hz=$(getconf CLK_TCK)
    ticks0=$(awk '{print $14 + $15}' "/proc/$serve_pid/stat")
    sleep 10
    ticks1=$(awk '{print $14 + $15}' "/proc/$serve_pid/stat")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status")
    threads=$(awk '/Threads/ {print $2}' "/proc/$serve_pid/status")
    printf '{"bench":"service","system":"sluice","store":"%s","case":"idle","jobs":1000,"rss_mib":%.1f,"threads":%s,"cpu_percent":%.2f}\n' \
        "$kind" "$(echo "$rss / 1024" | bc -l)" "$threads" \
        "$(echo "($ticks1 - $ticks0) * 100 / $hz / 10" | bc -l)"
    stop_serve
}

peers_done=""
bench_peers() {
    [[ $cases == *" peers "* ]] || return 0
    local system db pid
    for system in graphile-worker pg-boss dbos; do
        db="peer_${system//-/_}_$(date +%s)_$RANDOM"
        psql "$pg_base/postgres" -qAtX -c "CREATE DATABASE $db" >/dev/null
        # In the background and waited for, so that a signal reaches cleanup (and it, node) at once.
        node "$peers_dir/service_peers.mjs" "$system" "$pg_base/$db" "$trigger_seconds" &
        pid=$!
        wait "$pid"
    done
    peers_done=1
}

for kind in "${stores[@]}"; do
    [[ $kind == postgres && -z "$pg_dir" ]] && start_postgres
    bench_store "$kind"
done
# Peers asked for without sluice on PostgreSQL: they still need the server.
if [[ $cases == *" peers "* && -z "$peers_done" ]]; then
    [[ -n "$pg_dir" ]] || start_postgres
    bench_peers
fi
