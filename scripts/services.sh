#!/usr/bin/env bash
# Starts the database servers the tests need: PostgreSQL and MariaDB from Debian packages, each in its
# own data directory, listening on loopback only, on fixed ports. Idempotent and fast when already up:
#   - installs the packages only when their binaries are missing;
#   - creates each data directory once;
#   - starts a server only when it does not answer.
# Prints the connection settings as shell assignments (source scripts/services.env after it ran).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${OFFLOAD_SERVICES_DIR:-/var/tmp/offload-services}
PG_PORT=${OFFLOAD_PG_PORT:-55432}
MY_PORT=${OFFLOAD_MYSQL_PORT:-53306}
TEST_USER=offload
TEST_PASSWORD=offload-test-only
TEST_DB=offload_test

log() { printf '[services] %s\n' "$*" >&2; }

need_apt=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need_apt+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # policy-rc.d keeps the packages from starting their own system-wide servers.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

mkdir -p "$STATE"
chmod 755 "$STATE"

# ---- PostgreSQL -------------------------------------------------------------------------------
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGDATA="$STATE/pg/data"
PGRUN="$STATE/pg"   # socket and log, owned by the postgres user
mkdir -p "$PGRUN"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGRUN"
if ! "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initialising PostgreSQL in $PGDATA"
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA"
    pwfile=$(mktemp); printf '%s\n' "$TEST_PASSWORD" >"$pwfile"; chmod 644 "$pwfile"
    as_pg "$pg_bin/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  pg_opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGRUN -c fsync=off -c synchronous_commit=off"
  pg_opts+=" -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
  as_pg "$pg_bin/pg_ctl" -D "$PGDATA" -l "$PGRUN/pg.log" -w -t 60 -o "$pg_opts" start >/dev/null
fi
pg_sql() { as_pg "$pg_bin/psql" -h "$PGRUN" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(pg_sql -d postgres -c "select count(*) from pg_roles where rolname='$TEST_USER'")" = 0 ]; then
  pg_sql -d postgres -c "create role $TEST_USER login superuser password '$TEST_PASSWORD'"
fi
if [ "$(pg_sql -d postgres -c "select count(*) from pg_database where datname='$TEST_DB'")" = 0 ]; then
  pg_sql -d postgres -c "create database $TEST_DB owner $TEST_USER"
fi

# ---- MariaDB ----------------------------------------------------------------------------------
MYRUN="$STATE/mariadb"   # data, socket, logs, owned by the mysql user
MYDATA="$MYRUN/data"
MYSOCK="$MYRUN/mariadb.sock"
mkdir -p "$MYRUN"; [ "$(id -u)" = 0 ] && chown mysql:mysql "$MYRUN"
my_up() { mariadb-admin --protocol=socket -S "$MYSOCK" -uroot ping >/dev/null 2>&1; }
if ! my_up; then
  if [ ! -d "$MYDATA/mysql" ]; then
    log "initialising MariaDB in $MYDATA"
    mkdir -p "$MYDATA"
    [ "$(id -u)" = 0 ] && chown mysql:mysql "$MYDATA"
    mariadb-install-db --user=mysql --datadir="$MYDATA" --auth-root-authentication-method=socket \
      --skip-test-db >"$MYRUN/install.log" 2>&1
  fi
  log "starting MariaDB on 127.0.0.1:$MY_PORT"
  (setsid /usr/sbin/mariadbd --user=mysql --datadir="$MYDATA" --socket="$MYSOCK" \
     --port="$MY_PORT" --bind-address=127.0.0.1 --pid-file="$MYRUN/mariadb.pid" \
     --log-error="$MYRUN/mariadb.err" --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
     --max-connections=300 --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
     --default-time-zone=+00:00 --skip-name-resolve </dev/null >/dev/null 2>&1 &)
  for _ in $(seq 1 120); do my_up && break; sleep 0.5; done
  my_up || { log "MariaDB did not start; see $MYRUN/mariadb.err"; tail -n 20 "$MYRUN/mariadb.err" >&2; exit 1; }
fi
mariadb --protocol=socket -S "$MYSOCK" -uroot -e "
  CREATE USER IF NOT EXISTS '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
  CREATE USER IF NOT EXISTS '$TEST_USER'@'localhost' IDENTIFIED BY '$TEST_PASSWORD';
  GRANT ALL PRIVILEGES ON *.* TO '$TEST_USER'@'127.0.0.1' WITH GRANT OPTION;
  GRANT ALL PRIVILEGES ON *.* TO '$TEST_USER'@'localhost' WITH GRANT OPTION;
  CREATE DATABASE IF NOT EXISTS $TEST_DB;"

cat >"$ROOT/scripts/services.env" <<EOF
# Written by scripts/services.sh: connection settings of the local test servers (loopback only).
export OFFLOAD_TEST_PG_HOST=127.0.0.1
export OFFLOAD_TEST_PG_PORT=$PG_PORT
export OFFLOAD_TEST_MYSQL_HOST=127.0.0.1
export OFFLOAD_TEST_MYSQL_PORT=$MY_PORT
export OFFLOAD_TEST_USER=$TEST_USER
export OFFLOAD_TEST_PASSWORD=$TEST_PASSWORD
export OFFLOAD_TEST_DB=$TEST_DB
EOF
log "PostgreSQL 127.0.0.1:$PG_PORT and MariaDB 127.0.0.1:$MY_PORT are up (user $TEST_USER, database $TEST_DB)"
