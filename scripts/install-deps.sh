#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only those missing, as root or through sudo.
# Usage: scripts/install-deps.sh build|test|bench|fuzz|format
set -euo pipefail

build_pkgs=(
    build-essential cmake ninja-build ccache pkg-config git tzdata
    libboost1.81-all-dev libpqxx-dev libspdlog-dev nlohmann-json3-dev catch2 libyaml-cpp-dev
    libcli11-dev libhowardhinnant-date-dev libsqlite3-dev libmariadb-dev libssl-dev
    libsystemd-dev libbenchmark-dev nodejs npm
)
# prometheus: `promtool check metrics` validates the /metrics exposition in the tests.
# clickhouse-server: the ClickHouse sink/source tests (Debian's 18.16, HTTP interface); curl
# checks that the test servers came up; python3 serves JSON pages to the HTTP source tests and
# openssl makes their TLS certificate. chromium: the admin page's browser tests (Playwright
# drives Debian's build; it cannot download its own here).
# node and npm (in build_pkgs) bundle the admin page (web/ui) that the binary embeds.
# systemd: `systemd-analyze verify` and `security` check deploy/sluice.service offline.
test_pkgs=(chromium postgresql mariadb-server prometheus clickhouse-server curl python3 openssl
    systemd)
# The ETL peer benchmarks (bench/etl_peers.sh) time the tools our users would otherwise use;
# the service benchmark (bench/service_bench.sh) loads the HTTP API with wrk and reads the
# SQLite store with sqlite3; its peers (bench/peers: graphile-worker, pg-boss, DBOS) run on the
# node and npm of build_pkgs.
bench_pkgs=(pgloader clickhouse-client postgresql-client mariadb-client wrk sqlite3 bc)
fuzz_pkgs=(clang libclang-rt-14-dev)
format_pkgs=(clang-format)

wanted=("${build_pkgs[@]}")
for target in "$@"; do
    case "$target" in
        build) ;;
        test) wanted+=("${test_pkgs[@]}") ;;
        bench) wanted+=("${bench_pkgs[@]}") ;;
        fuzz) wanted+=("${fuzz_pkgs[@]}") ;;
        format) wanted+=("${format_pkgs[@]}") ;;
        *) echo "install-deps: unknown target '$target'" >&2; exit 2 ;;
    esac
done

missing=()
for pkg in "${wanted[@]}"; do
    # Node and npm may come from outside Debian's packages (e.g. a toolchain image); accept them.
    if [[ "$pkg" == nodejs || "$pkg" == npm ]] && command -v "${pkg/nodejs/node}" >/dev/null; then
        continue
    fi
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
