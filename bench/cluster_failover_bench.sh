#!/usr/bin/env bash
# Scheduler failover (docs/cluster.md#the-scheduler, docs/benchmarks.md#cluster): two
# `sluice serve` nodes on one PostgreSQL database with an every-second job (catchup: all) and the
# default cluster settings unless given. Each round stops the node that holds the scheduler lease
# and times, from the signal, (a) until the other node's GET /api/v1/nodes names itself the
# scheduler and (b) until a run it created appears (its catch-up, or the next tick). Two ways to
# stop it: kill -9 (on one machine the other node proves the pid gone and need not wait the lease
# out) and SIGSTOP (a frozen node, alive as far as anyone can prove: what a crash or a partition
# on another machine looks like, so the lease must expire). Prints one JSON line per round.
# Needs SLUICE_TEST_PG_URL (scripts/test-servers.sh start; eval "$(scripts/test-servers.sh env)").
# Usage: bench/cluster_failover_bench.sh BUILD_DIR [ROUNDS] [LEASE_TTL] [HEARTBEAT]
set -euo pipefail
build_dir=$(cd "${1:?usage: bench/cluster_failover_bench.sh BUILD_DIR [ROUNDS] [LEASE_TTL] [HEARTBEAT]}" && pwd)
rounds=${2:-3}
ttl=${3:-10s}
beat=${4:-}
: "${SLUICE_TEST_PG_URL:?start scripts/test-servers.sh and export its env first}"
work=$(mktemp -d)
db="failover_$$"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done
    psql "$SLUICE_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
psql "$SLUICE_TEST_PG_URL" -qc "CREATE DATABASE $db"
url="${SLUICE_TEST_PG_URL%/*}/$db"

now_ms() { date +%s%3N; }

# start NAME: a node on its own port file; sets port[NAME] and pid[NAME].
declare -A port pid
start() {
    local name=$1 cfg="$work/$1.yaml"
    cat >"$cfg" <<YAML
server: {listen: "127.0.0.1:0"}
store: {url: "$url"}
cluster: {node_name: $name, lease_ttl: $ttl${beat:+, heartbeat: $beat}}
jobs:
  tick:
    schedule: "* * * * * *"
    catchup: all
    max_catchup_runs: 1000
    tasks:
      t: {type: noop}
YAML
    rm -f "$work/$name.port"
    "$build_dir/sluice" serve -c "$cfg" --port-file "$work/$name.port" >>"$work/$name.log" 2>&1 &
    pid[$name]=$!
    pids+=("$!")
    disown "$!"  # no "Killed" line from the shell when a round stops it
    for _ in $(seq 1 300); do
        if [[ -s $work/$name.port ]] && curl -sf "http://127.0.0.1:$(cat "$work/$name.port")/readyz" >/dev/null; then
            port[$name]=$(cat "$work/$name.port")
            return
        fi
        sleep 0.1
    done
    cat "$work/$name.log" >&2
    exit 1
}
scheduler_at() { curl -sf "http://127.0.0.1:$1/api/v1/nodes" | jq -r '.nodes[] | select(.scheduler) | .name'; }
newest_run() { curl -sf "http://127.0.0.1:$1/api/v1/runs?job=tick&limit=1" | jq -r '.runs[0].id // 0'; }
created_by() { grep -c "(scheduled)" "$work/$1.log" || true; }

start etl-1
start etl-2
for _ in $(seq 1 200); do [[ -n $(scheduler_at "${port[etl-2]}") ]] && break; sleep 0.1; done
for round in $(seq 1 "$rounds"); do
    for how in KILL STOP; do
        holder=$(scheduler_at "${port[etl-1]}" 2>/dev/null || scheduler_at "${port[etl-2]}")
        other=$([[ $holder == etl-1 ]] && echo etl-2 || echo etl-1)
        sleep 2
        before=$(created_by "$other")
        t0=$(now_ms)
        kill -"$how" "${pid[$holder]}"
        t_lease=
        t_run=
        while [[ -z $t_run ]] && (( $(now_ms) - t0 < 60000 )); do
            [[ -z $t_lease && $(scheduler_at "${port[$other]}") == "$other" ]] && t_lease=$(( $(now_ms) - t0 ))
            (( $(created_by "$other") > before )) && t_run=$(( $(now_ms) - t0 ))
            sleep 0.02
        done
        echo "{\"round\":$round,\"stop\":\"SIG$how\",\"lease_ttl\":\"$ttl\",\"takeover_ms\":${t_lease:-null},\"first_run_ms\":${t_run:-null}}"
        if [[ $how == STOP ]]; then
            kill -CONT "${pid[$holder]}"
            sleep 1
        else
            while kill -0 "${pid[$holder]}" 2>/dev/null; do sleep 0.05; done
            start "$holder"
        fi
    done
done
