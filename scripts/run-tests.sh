#!/usr/bin/env bash
# Runs every test suite of a build tree through ctest, with throwaway test servers (PostgreSQL,
# MariaDB and ClickHouse) started first and always stopped afterwards.
# Usage: scripts/run-tests.sh [BUILD_DIR] [extra ctest args...]
set -euo pipefail
build_dir=${1:-build}
shift || true
here=$(cd "$(dirname "$0")" && pwd)

# One server set per build tree, so two trees can run their tests at the same time.
SLUICE_TEST_SERVERS_STATE="$(cd "$build_dir" && pwd)/test-servers.state"
export SLUICE_TEST_SERVERS_STATE
trap '"$here/test-servers.sh" stop' EXIT
"$here/test-servers.sh" start >/dev/null
set -a
# shellcheck disable=SC1090
source <("$here/test-servers.sh" env)
set +a

rc=0
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@" || rc=$?
if [ "$rc" -ne 0 ]; then
    "$here/show-failures.sh" "$build_dir"
fi
exit "$rc"
