#!/usr/bin/env bash
# Starts and stops throwaway database servers for the component and end-to-end tests.
# Usage: scripts/test-servers.sh start|stop|env|status
#
#   start   start every server (idempotent: a running set is reused) and print its env
#   env     print KEY=VALUE lines for the tests (SLUICE_TEST_PG_URL=...)
#   stop    stop every server and delete its data (idempotent)
#
# Servers live in one temp dir under ${TMPDIR:-/tmp}; its path is kept in the state file
# $SLUICE_TEST_SERVERS_STATE (default ${TMPDIR:-/tmp}/sluice-test-servers.<uid>.state), so
# separate build trees can run separate sets at once. Works as root (servers run as an
# unprivileged user) and as a normal user. Each server is a <name>_start/_stop/_running set of
# functions listed in `servers`: PostgreSQL (SLUICE_TEST_PG_URL) and MariaDB
# (SLUICE_TEST_MYSQL_URL); add ClickHouse the same way.
set -euo pipefail

servers=(postgresql mariadb)

tmp_root=${TMPDIR:-/tmp}
state_file=${SLUICE_TEST_SERVERS_STATE:-$tmp_root/sluice-test-servers.$(id -u).state}

die() { echo "test-servers: $*" >&2; exit 1; }

# Servers refuse to run as root: run them as this user when we are root.
service_user=postgres

as_service_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$service_user" -- "$@"
    else
        "$@"
    fi
}

ensure_service_user() {
    [[ $(id -u) -eq 0 ]] || return 0
    if ! id "$service_user" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$service_user"
    fi
}

random_port() { echo $((20000 + RANDOM % 40000)); }

# ---- PostgreSQL ----

pg_bin() {
    if [[ -n "${SLUICE_PG_BIN:-}" ]]; then
        echo "$SLUICE_PG_BIN"
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$dir" && -x "$dir/initdb" ]] ||
        die "PostgreSQL server binaries not found (apt-get install postgresql, or set SLUICE_PG_BIN)"
    echo "$dir"
}

postgresql_start() {
    local dir=$1 bin port attempt
    bin=$(pg_bin)
    mkdir -p "$dir/postgresql"
    [[ $(id -u) -eq 0 ]] && chown "$service_user" "$dir/postgresql"
    as_service_user "$bin/initdb" -D "$dir/postgresql/data" -U sluice --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/postgresql/initdb.log" 2>&1 ||
        { cat "$dir/postgresql/initdb.log" >&2; die "initdb failed"; }
    # A random port can be taken already: try a few. fsync is off because this data is thrown
    # away; max_connections covers parallel test processes each holding a pool.
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$(random_port)
        if as_service_user "$bin/pg_ctl" -D "$dir/postgresql/data" -l "$dir/postgresql/server.log" \
            -w -t 30 start -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/postgresql \
            -c fsync=off -c max_connections=400" >/dev/null 2>&1; then
            break
        fi
        port=""
    done
    [[ -n "$port" ]] || { tail -n 20 "$dir/postgresql/server.log" >&2; die "PostgreSQL did not start"; }
    as_service_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U sluice sluice_test
    echo "SLUICE_TEST_PG_URL=postgresql://sluice@127.0.0.1:$port/sluice_test" >>"$dir/env"
}

postgresql_stop() {
    local dir=$1
    [[ -d "$dir/postgresql/data" ]] || return 0
    as_service_user "$(pg_bin)/pg_ctl" -D "$dir/postgresql/data" -m immediate -w stop \
        >/dev/null 2>&1 || true
}

postgresql_running() {
    local dir=$1
    [[ -d "$dir/postgresql/data" ]] &&
        as_service_user "$(pg_bin)/pg_ctl" -D "$dir/postgresql/data" status >/dev/null 2>&1
}

# ---- MariaDB ----

mariadb_user=mysql
mariadb_password=sluice-test-pw

as_mariadb_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$mariadb_user" -- "$@"
    else
        "$@"
    fi
}

mariadb_start() {
    local dir=$1 data port attempt pid waited
    data=$dir/mariadb
    command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null ||
        die "MariaDB server binaries not found (apt-get install mariadb-server)"
    mkdir -p "$data"
    if [[ $(id -u) -eq 0 ]]; then
        id "$mariadb_user" >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin "$mariadb_user"
        chown "$mariadb_user" "$data"
    fi
    # root gets a password-less login on the socket (this data is thrown away).
    as_mariadb_user mariadb-install-db --no-defaults --datadir="$data/data" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        >"$data/install.log" 2>&1 || { cat "$data/install.log" >&2; die "mariadb-install-db failed"; }
    # Small buffers, no binary log and no durable flush: fast startup for throwaway data.
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$(random_port)
        rm -f "$data/mysqld.pid"
        as_mariadb_user mariadbd --no-defaults --datadir="$data/data" --port="$port" \
            --bind-address=127.0.0.1 --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" \
            --log-error="$data/server.log" --skip-name-resolve --skip-log-bin \
            --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
            --innodb-flush-log-at-trx-commit=0 --max-connections=400 </dev/null >/dev/null 2>&1 &
        pid=$!
        waited=0
        while ((waited < 300)); do
            kill -0 "$pid" 2>/dev/null || break
            mariadb-admin --no-defaults --socket="$data/mysqld.sock" -uroot ping \
                >/dev/null 2>&1 && break
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null &&
            mariadb-admin --no-defaults --socket="$data/mysqld.sock" -uroot ping >/dev/null 2>&1; then
            break
        fi
        kill -9 "$pid" 2>/dev/null || true
        port=""
    done
    [[ -n "$port" ]] || { tail -n 20 "$data/server.log" >&2; die "MariaDB did not start"; }
    mariadb --no-defaults --socket="$data/mysqld.sock" -uroot -e "
        CREATE DATABASE sluice_test;
        CREATE USER 'sluice'@'%' IDENTIFIED BY '$mariadb_password';
        GRANT ALL ON sluice_test.* TO 'sluice'@'%';"
    echo "SLUICE_TEST_MYSQL_URL=mysql://sluice:$mariadb_password@127.0.0.1:$port/sluice_test" \
        >>"$dir/env"
}

mariadb_stop() {
    local dir=$1 pid waited=0
    [[ -f "$dir/mariadb/mysqld.pid" ]] || return 0
    pid=$(cat "$dir/mariadb/mysqld.pid")
    kill -9 "$pid" 2>/dev/null || true
    # Bounded: an unreaped zombie still answers kill -0.
    while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
        sleep 0.05
        waited=$((waited + 1))
    done
}

mariadb_running() {
    local dir=$1
    [[ -f "$dir/mariadb/mysqld.pid" ]] && kill -0 "$(cat "$dir/mariadb/mysqld.pid")" 2>/dev/null
}

# ---- commands ----

current_dir() { [[ -f "$state_file" ]] && cat "$state_file" || true; }

cmd_stop() {
    local dir server
    dir=$(current_dir)
    if [[ -n "$dir" && -d "$dir" ]]; then
        for server in "${servers[@]}"; do
            "${server}_stop" "$dir"
        done
        rm -rf "$dir"
    fi
    rm -f "$state_file"
}

cmd_env() {
    local dir
    dir=$(current_dir)
    [[ -n "$dir" && -f "$dir/env" ]] || die "no servers running (scripts/test-servers.sh start)"
    cat "$dir/env"
}

cmd_start() {
    local dir server healthy=1
    dir=$(current_dir)
    if [[ -n "$dir" && -f "$dir/env" ]]; then
        for server in "${servers[@]}"; do
            "${server}_running" "$dir" || healthy=0
        done
        if [[ $healthy -eq 1 ]]; then
            cmd_env
            return
        fi
        cmd_stop  # a half-dead set from an earlier run: start over
    fi
    ensure_service_user
    dir=$(mktemp -d "$tmp_root/sluice-test-servers.XXXXXX")
    chmod 755 "$dir"
    echo "$dir" >"$state_file"
    # A failed start leaves nothing running behind.
    trap 'cmd_stop' ERR
    for server in "${servers[@]}"; do
        "${server}_start" "$dir"
    done
    trap - ERR
    cmd_env
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    status)
        dir=$(current_dir)
        for server in "${servers[@]}"; do
            if [[ -n "$dir" ]] && "${server}_running" "$dir"; then
                echo "$server: running"
            else
                echo "$server: stopped"
            fi
        done
        ;;
    *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
