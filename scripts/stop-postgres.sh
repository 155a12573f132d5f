#!/usr/bin/env bash
# Stop the throwaway test cluster on PORT (default 54329) and delete its data dir.
# Safe to run when nothing is running, and after the postmaster was killed (kill -9).
#
#   scripts/stop-postgres.sh [PORT]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
. "$here/postgres-env.sh"

port="$(pg_port_arg "${1:-}")"
root="$(pg_root_dir "$port")"
pgdata="$root/data"

# PIDs of processes whose working directory is this cluster's data dir: the postmaster and
# every backend chdir there, so this finds exactly this cluster's processes (also orphans
# left after the postmaster was killed) and nothing else.
cluster_pids() {
    local link pid
    [[ -d "$pgdata" ]] || return 0
    # One find over /proc/PID/cwd links (no fork per process); glob characters in the
    # path are escaped for -lname.
    local pattern
    pattern="$(printf '%s' "$pgdata" | sed 's/[][\\*?]/\\&/g')"
    while IFS= read -r link; do
        pid="${link#/proc/}"
        pid="${pid%/cwd}"
        pid_alive "$pid" && printf '%s\n' "$pid"
    done < <(find /proc -mindepth 2 -maxdepth 2 -name cwd \
                 \( -lname "$pattern" -o -lname "$pattern (deleted)" \) 2>/dev/null)
    return 0
}

# True if PID is a live process (zombies count as dead: after kill -9 of the postmaster its
# zombie may linger until PID 1 reaps it, and pg_ctl would wait on it).
pid_alive() {
    local state
    state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

pm_pid=""
[[ -f "$pgdata/postmaster.pid" ]] && pm_pid="$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null || true)"
# Only signal the pid from postmaster.pid if it really is this cluster's postmaster (after a
# reboot the pid may belong to an unrelated process).
if [[ "$pm_pid" =~ ^[0-9]+$ && -x "$PG_BINDIR/pg_ctl" ]] && grep -qx "$pm_pid" <<<"$(cluster_pids)"; then
    pg_log "stopping cluster on port $port"
    pg_as_owner "$PG_BINDIR/pg_ctl" -D "$pgdata" stop -m fast -w -t 20 >/dev/null 2>&1 \
        || pg_as_owner "$PG_BINDIR/pg_ctl" -D "$pgdata" stop -m immediate -w -t 10 >/dev/null 2>&1 \
        || true
fi

# Whatever is left (a stuck server, or backends orphaned by kill -9 of the postmaster).
pids="$(cluster_pids)"
if [[ -n "$pids" ]]; then
    pg_log "killing leftover processes of the cluster on port $port: ${pids//$'\n'/ }"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    for _ in $(seq 50); do
        [[ -z "$(cluster_pids)" ]] && break
        sleep 0.1
    done
fi

if [[ -e "$root" ]]; then
    rm -rf -- "$root"
    pg_log "removed $root"
fi
