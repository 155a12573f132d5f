#!/usr/bin/env bash
# Schemathesis against the real catalogue server, on each store: every operation of the OpenAPI
# document the server itself serves, generated requests of every kind (examples, coverage of
# each constraint's edges, fuzzing, and stateful sequences that follow the document's links:
# PUT /v1/products -> GET / DELETE /v1/products/{id}), all checks on. 0 failures expected.
#
#   scripts/test-schema.sh [sqlite] [postgres]     (default: both)
#
# Needs the release build (`cargo b`): target/release/shoplook-catalogue. The PostgreSQL run
# needs SHOPLOOK_TEST_PG_URL (a server with pgvector; scripts/test.sh starts one) and makes a
# fresh database there. The health check `data_too_large` is off: an embedding is 1280
# numbers, which is what the API takes. One worker: CPython 3.11 (Debian 12's) can fail
# `ast.parse` from concurrent threads ("AST constructor recursion depth mismatch"), which
# hypothesis calls while building strategies. Settings: SHOPLOOK_ST_EXAMPLES (per operation, default 40),
# SHOPLOOK_ST_SEED (default: a new random seed each run, printed, so every CI run walks another
# path through the generator and a failure can be replayed with SHOPLOOK_ST_SEED=N),
# SHOPLOOK_ST_MAX_TIME (seconds per store, default 150).
# Prints `schema: N passed, N failed` (one per store run).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd -P)"
ST_VERSION="4.32.5"
TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
VENV="$TOOLS/schemathesis-$ST_VERSION"
BIN="$ROOT/target/release/shoplook-catalogue"
EXAMPLES="${SHOPLOOK_ST_EXAMPLES:-40}"
SEED="${SHOPLOOK_ST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
MAX_TIME="${SHOPLOOK_ST_MAX_TIME:-150}"
STORES="${*:-sqlite postgres}"
log() { printf '[schema] %s\n' "$*" >&2; }
T0=$(date +%s)

# Schemathesis, pinned, in its own virtual environment (cached).
if [ ! -x "$VENV/bin/st" ]; then
  log "installing schemathesis $ST_VERSION into $VENV"
  mkdir -p "$TOOLS"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    # apt_get: every apt-get of the project's scripts under one lock (scripts/lib/apt.sh).
    # shellcheck source=lib/apt.sh
    source scripts/lib/apt.sh
    apt_get update -qq && apt_get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV" || { log "cannot make a Python venv"; exit 1; }
  fi
  "$VENV/bin/pip" install -q "schemathesis==$ST_VERSION" \
    || { rm -rf "$VENV"; log "pip install schemathesis failed"; exit 1; }
fi
[ -x "$BIN" ] || { log "$BIN missing: run \`cargo b\` first"; exit 1; }
log "setup $(( $(date +%s) - T0 ))s"
log "seed $SEED (replay: SHOPLOOK_ST_SEED=$SEED scripts/test-schema.sh)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/shoplook-schema.XXXXXX")"
# shellcheck source=store-server.sh
source scripts/store-server.sh
trap cleanup_on_exit EXIT

passed=0
failed=0
run_store() { # run_store NAME STORE_ARGS...
  local name="$1" key start
  shift
  start=$(date +%s)
  log "$name: ingesting the demo catalogue"
  "$BIN" ingest "$@" --models "$ROOT/models" --allow-local-image-paths fixtures/demo-catalogue/feed.jsonl \
    >"$WORK/$name-ingest.log" 2>&1 || { cat "$WORK/$name-ingest.log" >&2; return 1; }
  key="$("$BIN" keys create "$@" --name schemathesis --admin 2>/dev/null | tail -n1)"
  [ -n "$key" ] || { log "$name: keys create failed"; return 1; }
  start_server "$name" "$@" || return 1
  log "$name: schemathesis against http://127.0.0.1:$SERVER_PORT/openapi.json"
  (cd "$WORK" && "$VENV/bin/st" --config-file "$ROOT/scripts/schemathesis/schemathesis.toml" \
    run "http://127.0.0.1:$SERVER_PORT/openapi.json" --checks all \
    -H "Authorization: Bearer $key" --max-examples "$EXAMPLES" --seed "$SEED" \
    --max-time "$MAX_TIME" --workers 1 --no-color --output-truncate true \
    --phases examples,coverage,fuzzing,stateful \
    --suppress-health-check data_too_large) >"$WORK/$name-st.log" 2>&1
  local rc=$?
  # The summary, and every failure in full when there is one.
  if [ "$rc" -eq 0 ]; then
    sed -n '/Stateful (in/,$p' "$WORK/$name-st.log" >&2
  else
    sed -n '/FAILURES\|ERRORS/,$p' "$WORK/$name-st.log" | cut -c1-600 >&2
  fi
  stop_server "$name" || rc=1
  log "$name: $(( $(date +%s) - start ))s, schemathesis exit $rc"
  return "$rc"
}

for store in $STORES; do
  store_args "$store"
  case $? in 1) continue ;; 2) failed=$((failed + 1)); continue ;; esac
  if run_store "$store" "${STORE_ARGS[@]}"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
log "total $(( $(date +%s) - T0 ))s"
echo "schema: $passed passed, $failed failed (seed $SEED)"
[ "$failed" -eq 0 ]
