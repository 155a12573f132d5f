#!/usr/bin/env bash
# The web console in a real browser, on each store: the demo catalogue ingested by the real
# model, `seed-events --demo` (seeded synthetic traffic, its true counts kept), keys of each
# role, the real server on loopback, then browser-tests/console.test.mjs in Debian's chromium.
# Also checks that both stores give the same report (the CSV of the same query, byte for byte).
#
#   scripts/test-console.sh [sqlite] [postgres]     (default: both)
#
# Needs `cargo b` (target/release/shoplook-catalogue) and scripts/setup-browser.sh; the
# PostgreSQL run needs SHOPLOOK_TEST_PG_URL. Screenshots of the sqlite run go to docs/.
# Prints `console: N passed, N failed` (browser tests of all stores, plus the comparison).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd -P)"
BIN="$ROOT/target/release/shoplook-catalogue"
STORES="${*:-sqlite postgres}"
log() { printf '[console] %s\n' "$*" >&2; }
T0=$(date +%s)
[ -x "$BIN" ] || { log "$BIN missing: run \`cargo b\` first"; exit 1; }
[ -d browser-tests/node_modules/puppeteer-core ] || scripts/setup-browser.sh || exit 1

WORK="$(mktemp -d "${TMPDIR:-/tmp}/shoplook-console.XXXXXX")"
# shellcheck source=store-server.sh
source scripts/store-server.sh
trap cleanup_on_exit EXIT

passed=0
failed=0
count() { # count OUTPUT_FILE: adds its `console: N passed, N failed` line to the totals
  local line
  line="$(grep -E '^console: [0-9]+ passed, [0-9]+ failed' "$1" | tail -n1)"
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + $(echo "$line" | awk '{print $2}')))
  failed=$((failed + $(echo "$line" | awk '{print $4}')))
}

run_store() { # run_store NAME STORE_ARGS...
  local name="$1" port admin brand app start
  shift
  start=$(date +%s)
  "$BIN" ingest "$@" --models "$ROOT/models" --allow-local-image-paths fixtures/demo-catalogue/feed.jsonl \
    >"$WORK/$name-ingest.log" 2>&1 || { cat "$WORK/$name-ingest.log" >&2; return 1; }
  "$BIN" seed-events "$@" --demo --seed 1 --days 28 --summary "$WORK/$name-truth.json" \
    >/dev/null 2>"$WORK/$name-seed.log" || { cat "$WORK/$name-seed.log" >&2; return 1; }
  log "$name: $(tail -n1 "$WORK/$name-seed.log")"
  admin="$("$BIN" keys create "$@" --name console-admin --role admin 2>/dev/null | tail -n1)"
  brand="$("$BIN" keys create "$@" --name console-brand --role brand --brand "Demo Sports" 2>/dev/null | tail -n1)"
  app="$("$BIN" keys create "$@" --name console-app --role app 2>/dev/null | tail -n1)"
  [ -n "$admin" ] && [ -n "$brand" ] && [ -n "$app" ] || { log "$name: keys create failed"; return 1; }
  start_server "$name" "$@" || return 1
  port="$SERVER_PORT"
  local shots=""
  [ "$name" = sqlite ] && shots="$ROOT/docs"
  CONSOLE_URL="http://127.0.0.1:$port" ADMIN_KEY="$admin" BRAND_KEY="$brand" BRAND="Demo Sports" \
    OTHER_BRAND="Demo Court" APP_KEY="$app" TRUTH="$WORK/$name-truth.json" SCREENSHOTS="$shots" \
    STORE="$name" node browser-tests/console.test.mjs 2>&1 | tee "$WORK/$name-browser.log" >&2
  count "$WORK/$name-browser.log"
  # The report both stores must agree on.
  for q in "granularity=week&period=12" "granularity=day&period=28"; do
    curl -fsS -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/v1/trends?format=csv&$q" \
      >>"$WORK/$name-report.csv" || log "$name: report $q failed"
  done
  stop_server "$name" || failed=$((failed + 1))
  log "$name: $(( $(date +%s) - start ))s"
}

for store in $STORES; do
  store_args "$store"
  case $? in 1) continue ;; 2) failed=$((failed + 1)); continue ;; esac
  run_store "$store" "${STORE_ARGS[@]}" || failed=$((failed + 1))
done
if [ -s "$WORK/sqlite-report.csv" ] && [ -s "$WORK/postgres-report.csv" ]; then
  if cmp -s "$WORK/sqlite-report.csv" "$WORK/postgres-report.csv"; then
    log "sqlite and postgres give the same report ($(wc -l <"$WORK/sqlite-report.csv") CSV lines)"
    passed=$((passed + 1))
  else
    log "sqlite and postgres reports differ:"; diff "$WORK/sqlite-report.csv" "$WORK/postgres-report.csv" | head -20 >&2
    failed=$((failed + 1))
  fi
fi
log "total $(( $(date +%s) - T0 ))s"
echo "console: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
