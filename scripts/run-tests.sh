#!/usr/bin/env bash
# Runs every test suite of a build tree through ctest. Test servers (PostgreSQL, ClickHouse,
# MariaDB) are started here once the suites that need them exist.
set -euo pipefail
build_dir=${1:-build}
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
