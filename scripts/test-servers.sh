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
# functions listed in `servers`: PostgreSQL (SLUICE_TEST_PG_URL), MariaDB (SLUICE_TEST_MYSQL_URL)
# and ClickHouse over its HTTP interface (SLUICE_TEST_CLICKHOUSE_URL).
set -euo pipefail

servers=(postgresql mariadb clickhouse)

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

# ---- ClickHouse ----

clickhouse_user=clickhouse

# setpriv execs the server in place (runuser would fork and keep itself as the parent), so $! is
# the server's own pid: ClickHouse 18.16 writes no pid file when it runs in the foreground.
clickhouse_prefix() {
    if [[ $(id -u) -eq 0 ]]; then
        echo setpriv --reuid="$clickhouse_user" --regid="$clickhouse_user" --init-groups --
    fi
}

clickhouse_bin() {
    local bin
    for bin in "${SLUICE_CLICKHOUSE_BIN:-}" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
        [[ -n "$bin" && -x "$bin" ]] && { echo "$bin"; return; }
    done
    die "ClickHouse server binary not found (apt-get install clickhouse-server, or set SLUICE_CLICKHOUSE_BIN)"
}

# Its own config in the temp dir: loopback only, a random HTTP port (the native TCP port is
# required by the server, also random), small caches, UTC, a password-less `default` user
# limited to loopback, and a memory limit per query low enough to test "memory limit" errors.
clickhouse_config() {
    local data=$1 http_port=$2 tcp_port=$3
    cat >"$data/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$data/server.log</log><errorlog>$data/server.err.log</errorlog><size>10M</size><count>1</count></logger>
    <http_port>$http_port</http_port>
    <tcp_port>$tcp_port</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>30</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$data/data/</path>
    <tmp_path>$data/data/tmp/</tmp_path>
    <user_files_path>$data/data/user_files/</user_files_path>
    <format_schema_path>$data/data/format_schemas/</format_schema_path>
    <users_config>$data/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
    cat >"$data/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
}

clickhouse_query() {
    local port=$1 sql=$2
    curl -fsS --max-time 10 "http://127.0.0.1:$port/" --data-binary "$sql"
}

clickhouse_start() {
    local dir=$1 data bin port tcp_port attempt pid waited
    data=$dir/clickhouse
    bin=$(clickhouse_bin)
    command -v curl >/dev/null || die "curl not found (apt-get install curl)"
    mkdir -p "$data"
    if [[ $(id -u) -eq 0 ]]; then
        id "$clickhouse_user" >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin "$clickhouse_user"
        chown "$clickhouse_user" "$data"
    fi
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$(random_port)
        tcp_port=$(random_port)
        clickhouse_config "$data" "$port" "$tcp_port"
        # shellcheck disable=SC2046
        $(clickhouse_prefix) "$bin" --config-file="$data/config.xml" </dev/null \
            >"$data/stdout.log" 2>&1 &
        pid=$!
        echo "$pid" >"$data/server.pid"
        waited=0
        while ((waited < 300)); do
            kill -0 "$pid" 2>/dev/null || break
            clickhouse_query "$port" "SELECT 1" >/dev/null 2>&1 && break
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null && clickhouse_query "$port" "SELECT 1" >/dev/null 2>&1; then
            break
        fi
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        port=""
    done
    [[ -n "$port" ]] || {
        tail -n 20 "$data/stdout.log" "$data/server.err.log" >&2 2>/dev/null || true
        die "ClickHouse did not start"
    }
    clickhouse_query "$port" "CREATE DATABASE sluice_test" >/dev/null ||
        die "ClickHouse: cannot create the test database"
    echo "SLUICE_TEST_CLICKHOUSE_URL=http://127.0.0.1:$port/?database=sluice_test" >>"$dir/env"
    # The native protocol port, for clickhouse-client in the peer benchmarks.
    echo "SLUICE_TEST_CLICKHOUSE_TCP_PORT=$tcp_port" >>"$dir/env"
}

clickhouse_stop() {
    local dir=$1 pid waited=0
    [[ -f "$dir/clickhouse/server.pid" ]] || return 0
    pid=$(cat "$dir/clickhouse/server.pid")
    kill -9 "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
        sleep 0.05
        waited=$((waited + 1))
    done
}

clickhouse_running() {
    local dir=$1
    [[ -f "$dir/clickhouse/server.pid" ]] && kill -0 "$(cat "$dir/clickhouse/server.pid")" 2>/dev/null
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
