#!/usr/bin/env bash
# An hour of mixed load on the real daemon (docs/benchmarks.md, "Soak"), sampling its RSS, open
# descriptors, threads and store size every minute, to show what grows. The load, all at once:
#   - every-second schedules: a noop job and a shell job that logs 20 lines;
#   - an incremental copy (SQLite to SQLite, upsert) every 10 seconds, its source growing;
#   - 5 manual triggers a second over HTTP;
#   - 4 clients following task logs and 4 on the event stream, reconnecting when a stream ends;
#   - 20 slowloris connections that send one header byte every 10 seconds, reopened when closed.
# Prints one JSON object per sample, then the first and the last sample and their difference.
# Usage: bench/soak.sh BUILD_DIR [MINUTES]   (default 60; SQLite store in a temp dir)
set -euo pipefail
build_dir=$(cd "${1:?usage: bench/soak.sh BUILD_DIR [MINUTES]}" && pwd)
minutes=${2:-60}
sluice=$build_dir/sluice
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is missing" >&2; exit 2; }
done
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/sluice.yaml" <<YAML
server: {listen: "127.0.0.1:0"}
store: {url: "sqlite://var/sluice.db"}
workers: 16
retention: {runs: 10m, logs: 5m, events: 10m}
connections:
  source: {type: sqlite, url: "sqlite://source.db"}
  sink: {type: sqlite, url: "sqlite://sink.db"}
jobs:
  tick:
    schedule: "* * * * * *"
    catchup: none
    tasks: {t: {type: noop}}
  chatter:
    schedule: "* * * * * *"
    catchup: none
    tasks:
      talk: {type: shell, command: 'for i in \$(seq 1 20); do echo "line \$i of \$SLUICE_RUN_ID"; done'}
  grow:
    schedule: "*/10 * * * * *"
    catchup: none
    concurrency: forbid
    tasks:
      add:
        type: sql
        connection: source
        sql: "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, v TEXT, updated_at INTEGER); INSERT INTO items (v, updated_at) SELECT hex(randomblob(16)), strftime('%s','now') FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)"
      copy:
        type: copy
        depends_on: [add]
        source: {connection: source, table: items, cursor: [id]}
        sink: {connection: sink, table: items, mode: upsert, key: [id]}
        create_table: if_missing
  poke:
    tasks: {p: {type: noop}}
YAML
"$sluice" serve -c "$work/sluice.yaml" --port-file "$work/port" >"$work/serve.log" 2>&1 &
daemon=$!
pids+=("$daemon")
for _ in $(seq 1 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
until curl -sf "$base/readyz" >/dev/null; do sleep 0.2; done

# 5 triggers a second.
( while true; do
      for _ in 1 2 3 4 5; do
          curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
              "$base/api/v1/jobs/poke/runs" || true
      done
      sleep 1
  done ) &
pids+=($!)
# Log followers: the newest chatter run's task log, followed until it ends, then the next.
for _ in 1 2 3 4; do
    ( while true; do
          run=$(curl -s "$base/api/v1/runs?job=chatter&limit=1" |
              grep -o '"id":[0-9]*' | head -1 | cut -d: -f2 || true)
          if [[ -n "$run" ]]; then
              curl -s -N --max-time 30 "$base/api/v1/runs/$run/tasks/talk/logs?follow=1" >/dev/null || true
          fi
          sleep 1
      done ) &
    pids+=($!)
done
# Event stream clients.
for _ in 1 2 3 4; do
    ( while true; do
          curl -s -N --max-time 120 -H 'Accept: text/event-stream' "$base/api/v1/events" \
              >/dev/null || true
      done ) &
    pids+=($!)
done
# Slowloris.
python3 - "$port" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
conns = []
def fresh():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return s
while True:
    while len(conns) < 20:
        try:
            conns.append(fresh())
        except OSError:
            time.sleep(1)
            break
    alive = []
    for s in conns:
        try:
            s.sendall(b"X")
            alive.append(s)
        except OSError:
            s.close()
    conns = alive
    time.sleep(10)
PY
pids+=($!)

sample() {
    local minute=$1 rss fds threads store cpu
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon/status")
    threads=$(awk '/^Threads/ {print $2}' "/proc/$daemon/status")
    fds=$(find "/proc/$daemon/fd" -mindepth 1 -maxdepth 1 | wc -l)
    store=$(du -cb "$work"/var/sluice.db* | tail -1 | cut -f1)
    cpu=$(awk '{print $14 + $15}' "/proc/$daemon/stat")
    echo "{\"minute\":$minute,\"rss_kib\":$rss,\"fds\":$fds,\"threads\":$threads,\"store_bytes\":$store,\"cpu_ticks\":$cpu}"
}
samples=()
for minute in $(seq 0 "$minutes"); do
    [[ $minute -gt 0 ]] && sleep 60
    kill -0 "$daemon" 2>/dev/null || { echo "soak: the daemon died" >&2; tail -20 "$work/serve.log" >&2; exit 1; }
    s=$(sample "$minute")
    samples+=("$s")
    echo "$s"
done
runs=$(curl -s "$base/metrics" | awk '/^sluice_runs_total/ {n += $2} END {print n + 0}')
echo "{\"first\":${samples[0]},\"last\":${samples[-1]},\"runs_finished\":$runs,\"errors_logged\":$(grep -c ' error ' "$work/serve.log" || true)}"
