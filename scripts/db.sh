#!/usr/bin/env bash
# The embedded PostgreSQL: a cluster in .pgdata/ of the checkout, on a private unix socket and a
# loopback port. Usage: scripts/db.sh start|stop|status|url [DB [USER]]|with-db URL DB|ensure-db DB|recreate-db DB
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGHOME=${PGHOME:-$ROOT/.pgdata}
DATA=$PGHOME/data
SOCK=$PGHOME/run
LOG=$PGHOME/postgres.log
PORT=${EMBEDDED_PGPORT:-54329}
PACKAGES="postgresql-15 postgresql-15-pgtap pgtap libpq-dev"

find_bin() {
  for dir in /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  echo "db.sh: PostgreSQL server binaries (initdb, pg_ctl) not found." >&2
  echo "       Install the Debian packages: sudo apt-get install $PACKAGES" >&2
  exit 1
}

# PostgreSQL refuses to run as root: then the cluster belongs to the postgres OS user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://${2:-postgres}@/${1:-app}?host=$SOCK&port=$PORT"; }

running() { [ -f "$DATA/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init_cluster() {
  mkdir -p "$PGHOME"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "db.sh: running as root needs the postgres OS user (from the postgresql-15 package)" >&2; exit 1; }
    chown postgres:postgres "$PGHOME"
    as_owner test -x "$PGHOME" || { echo "db.sh: the postgres user cannot reach $PGHOME; make its parent folders traversable (chmod o+x)" >&2; exit 1; }
  fi
  chmod 700 "$PGHOME"
  [ -f "$DATA/PG_VERSION" ] && return
  echo "db.sh: creating the embedded cluster in $DATA"
  # TCP needs this generated password; the unix socket, in a folder only the owner can enter, needs none.
  local pwfile="$PGHOME/superuser.password"
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$pwfile"
  chmod 600 "$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pwfile"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$PGHOME/initdb.log" 2>&1 \
    || { cat "$PGHOME/initdb.log" >&2; exit 1; }
  cat >> "$DATA/postgresql.conf" <<CONF
# embedded development cluster (scripts/db.sh)
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
unix_socket_permissions = 0700
max_connections = 500
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 256MB
shared_preload_libraries = 'pg_stat_statements'
log_min_messages = warning
CONF
}

start() {
  init_cluster
  if running; then
    # A cluster started before FORECASTLAB_PROJECT_ROOT was in its environment: restart it once.
    if tr '\0' '\n' < "/proc/$(head -1 "$DATA/postmaster.pid")/environ" 2>/dev/null | grep -q '^FORECASTLAB_PROJECT_ROOT='; then
      echo "db.sh: already running ($(url))"; return
    fi
    echo "db.sh: restarting to apply the start options"
    stop
  fi
  # A pid file left by a crash, whose process is gone, would stop the server from starting.
  if [ -f "$DATA/postmaster.pid" ]; then
    local pid; pid=$(head -1 "$DATA/postmaster.pid")
    if ! kill -0 "$pid" 2>/dev/null || ! grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
      echo "db.sh: removing stale pid file (pid $pid is not running)"
      rm -f "$DATA/postmaster.pid"
    fi
  fi
  mkdir -p "$SOCK"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$SOCK"
  # PL/Python imports what scripts/setup.sh installed into .pylib (numpy, scikit-learn, …), for
  # Debian's own Python; one thread per backend for the numeric libraries, so a busy database
  # does not run more threads than it has cores. FORECASTLAB_PROJECT_ROOT: where
  # POST /rag/index/project-docs reads this project's docs (docs/forecastlab-rag.md); in the
  # server's environment, which no database session can change.
  as_owner env PYTHONPATH="$ROOT/.pylib" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    FORECASTLAB_PROJECT_ROOT="$ROOT" "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null \
    || { echo "db.sh: PostgreSQL did not start; its log:" >&2; tail -20 "$LOG" >&2; exit 1; }
  echo "db.sh: started on port $PORT, socket $SOCK"
}

stop() {
  if running; then as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; echo "db.sh: stopped"; fi
}

# With DATABASE_URL set, databases are created on that server instead (ADMIN_URL: any database there).
psql_admin() { psql "${ADMIN_URL:-$(url postgres)}" -X -q -v ON_ERROR_STOP=1 "$@"; }

# The same server and credentials as a postgres:// URI, with another database name.
with_db() { echo "$1" | sed -E "s#^(postgres(ql)?://[^/?]*)/?[^?]*#\1/$2#"; }

ensure_db() {
  psql_admin -tAc "select 1 from pg_database where datname = '$1'" | grep -q 1 || psql_admin -c "create database \"$1\""
}

recreate_db() {
  psql_admin -c "drop database if exists \"$1\" with (force)" -c "create database \"$1\""
}

case "${1:-}" in
  url) url "${2:-app}" "${3:-postgres}"; exit ;;
  with-db) with_db "$2" "$3"; exit ;;
esac
BIN=$(find_bin)
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running: $(url)"; else echo "stopped"; exit 3; fi ;;
  ensure-db) ensure_db "$2" ;;
  recreate-db) recreate_db "$2" ;;
  *) echo "usage: $0 start|stop|status|url [DB [USER]]|with-db URL DB|ensure-db DB|recreate-db DB" >&2; exit 2 ;;
esac
