#!/usr/bin/env bash
# Start a throwaway PostgreSQL + pgvector cluster on 127.0.0.1:PORT (default 54329) for tests.
#
#   url="$(scripts/start-postgres.sh [PORT])"   # e.g. postgres://shoplook@127.0.0.1:54329/shoplook_test
#
# - Data, socket and log live under ${TMPDIR:-/tmp}/shoplook-pg-PORT; a cluster left there by
#   an earlier run (even one whose postmaster was killed) is stopped and deleted first.
# - Listens on 127.0.0.1 only; trust auth (no password) for every user on loopback.
#   The database superuser is `shoplook`; database `shoplook_test` exists and has
#   `CREATE EXTENSION vector` done. template1 has the extension too, so databases that tests
#   create with CREATE DATABASE get it as well.
# - Durability is off (fsync, full_page_writes, synchronous_commit): test data only.
# - When run as root the server runs as the OS user shoplook-pg (PostgreSQL refuses root).
# - Progress goes to stderr; stdout gets only the URL, on its last line. The URL is also
#   written to ${TMPDIR:-/tmp}/shoplook-pg-PORT/url.
# Stop with scripts/stop-postgres.sh [PORT].
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
. "$here/postgres-env.sh"

port="$(pg_port_arg "${1:-}")"
root="$(pg_root_dir "$port")"
pgdata="$root/data"
logfile="$root/postgres.log"
url="postgres://$PG_DBUSER@127.0.0.1:$port/$PG_DBNAME"

if [[ ! -x "$PG_BINDIR/postgres" ]] || { [[ $EUID -eq 0 ]] && ! id -u "$PG_OSUSER" >/dev/null 2>&1; }; then
    if [[ $EUID -eq 0 ]]; then
        "$here/setup-postgres.sh" >&2
    else
        pg_die "no PostgreSQL at $PG_BINDIR; run scripts/setup-postgres.sh as root first"
    fi
fi

psql_bin="$PG_BINDIR/psql"
[[ -x "$psql_bin" ]] || psql_bin="$(command -v psql)" || pg_die "no psql found"

# 1. Remove whatever an earlier run left behind on this port.
"$here/stop-postgres.sh" "$port"

# 2. The port must be free now (something else may be listening there).
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    pg_die "127.0.0.1:$port is already in use by another program"
fi

# 3. Fresh cluster.
mkdir -p "$root"
chmod 0700 "$root"
[[ $EUID -eq 0 ]] && chown "$PG_OSUSER:" "$root"
pg_as_owner test -w "$root" \
    || pg_die "$root is not writable by $PG_OSUSER (is every parent of \$TMPDIR traversable?)"

pg_as_owner "$PG_BINDIR/initdb" -D "$pgdata" -U "$PG_DBUSER" --auth=trust \
    --encoding=UTF8 --locale=C --no-sync --no-instructions >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; pg_die "initdb failed"; }

# Unix socket in $root when the path is short enough (limit is 107 bytes), else TCP only.
sockdir="$root"
(( ${#root} + 20 < 100 )) || sockdir=""

pg_as_owner tee -a "$pgdata/postgresql.conf" >/dev/null <<EOF

# --- shoplook test settings (scripts/start-postgres.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 100
shared_buffers = 128MB
maintenance_work_mem = 512MB        # HNSW builds are much faster when the graph fits
fsync = off                         # throwaway test data: no durability needed
synchronous_commit = off
full_page_writes = off
wal_level = replica                 # allows pg_basebackup -R read replicas
max_wal_senders = 5
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF

pg_as_owner tee "$pgdata/pg_hba.conf" >/dev/null <<EOF
# shoplook test cluster: loopback only, trust
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
EOF

pg_log "starting PostgreSQL on 127.0.0.1:$port (data $pgdata)"
if ! pg_as_owner "$PG_BINDIR/pg_ctl" -D "$pgdata" -l "$logfile" -w -t 60 start >/dev/null 2>&1; then
    tail -n 30 "$logfile" >&2 || true
    pg_die "PostgreSQL did not start on port $port (log: $logfile)"
fi

# 4. Database + extension (template1 first, so shoplook_test and later databases inherit it).
PGCONNECT_TIMEOUT=10 PGOPTIONS="-c client_min_messages=warning" "$psql_bin" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$port" -U "$PG_DBUSER" -d template1 >/dev/null <<EOF \
    || pg_die "could not create database $PG_DBNAME with extension vector (log: $logfile)"
CREATE EXTENSION IF NOT EXISTS vector;
\connect postgres
CREATE DATABASE $PG_DBNAME;
\connect $PG_DBNAME
CREATE EXTENSION IF NOT EXISTS vector;
EOF

echo "$url" >"$root/url"
pg_log "ready: $url"
echo "$url"
