# shellcheck shell=bash
# Shared by the scripts that run a real catalogue server on each store (test-schema.sh,
# test-console.sh). Sourced, not executed. Expects $BIN (the shoplook-catalogue binary),
# $ROOT, $WORK (a scratch dir) and log().

SERVER_PID=""
SERVER_PORT=""

# store_args STORE: sets STORE_ARGS to the flags that open a fresh store of that kind (a new
# database on $SHOPLOOK_TEST_PG_URL for postgres). Returns 0, 1 for "skip" (postgres without a
# URL outside CI) or 2 for a failure (no URL in CI, createdb failed, unknown store).
store_args() {
  case "$1" in
    sqlite) STORE_ARGS=(--data "$WORK/sqlite-data") ;;
    postgres)
      if [ -z "${SHOPLOOK_TEST_PG_URL:-}" ]; then
        if [ -n "${CI:-}" ]; then log "SHOPLOOK_TEST_PG_URL not set in CI"; return 2; fi
        log "postgres: SHOPLOOK_TEST_PG_URL not set, skipped"; return 1
      fi
      local db="t_$(date +%s)_$$"
      # shellcheck source=postgres-env.sh
      source "$ROOT/scripts/postgres-env.sh"
      "$PG_BINDIR/createdb" --maintenance-db="$SHOPLOOK_TEST_PG_URL" "$db" \
        || { log "createdb $db failed"; return 2; }
      STORE_ARGS=(--store "${SHOPLOOK_TEST_PG_URL%/*}/$db") ;;
    *) log "unknown store $1"; return 2 ;;
  esac
}

# start_server NAME STORE_ARGS...: `serve` on a free loopback port without rate limits (the
# tests send thousands of requests from one key), logging to $WORK/NAME-serve.log; sets
# SERVER_PID and SERVER_PORT once /healthz answers.
start_server() {
  local name="$1"
  shift
  SERVER_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "$BIN" serve "$@" --models "$ROOT/models" --listen "127.0.0.1:$SERVER_PORT" --rate-limit 0 \
    >"$WORK/$name-serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$SERVER_PORT/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name-serve.log" >&2; return 1; }
    sleep 0.2
  done
  log "$name: the server did not answer /healthz"
  return 1
}

# stop_server NAME: stops it; fails if it panicked at any point.
stop_server() {
  kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
  if grep -q "panicked" "$WORK/$1-serve.log"; then
    log "$1: the server panicked:"; grep -A3 panicked "$WORK/$1-serve.log" >&2; return 1
  fi
}

# EXIT trap: stops a server left running by a failed step, removes $WORK.
cleanup_on_exit() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
