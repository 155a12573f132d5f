# Sourced by scripts/test-bindings.sh: starts a real catalogue server on a free loopback port
# for the Kotlin and Swift client tests, with the demo feed (fixtures/demo-catalogue) ingested
# and an API key created. Exports SHOPLOOK_CATALOGUE_URL, SHOPLOOK_CATALOGUE_KEY,
# SHOPLOOK_CATALOGUE_ADVERTISER_KEY (`--role advertiser`: may create campaigns) and
# SHOPLOOK_CATALOGUE_OFFLINE_URL (a loopback port where nothing listens); sets SERVER_PID and
# SERVER_DIR for the caller's cleanup. Without the `shoplook catalogue` command the client
# tests are skipped (the variables stay unset).

catalogue_start() {
  local port offline_port i cand
  # The server: `shoplook catalogue` (built by test-bindings.sh with the library), or the
  # catalogue crate's own binary `shoplook-catalogue` (same subcommands), or $SHOPLOOK_CATALOGUE_BIN.
  local -a cat=()
  for cand in "${SHOPLOOK_CATALOGUE_BIN:-}" "$LIB_DIR/shoplook" target/release/shoplook \
              "$LIB_DIR/shoplook-catalogue" target/release/shoplook-catalogue; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    case "$(basename "$cand")" in
      shoplook) "$cand" catalogue --help >/dev/null 2>&1 && { cat=("$cand" catalogue); break; } ;;
      *)        "$cand" serve --help >/dev/null 2>&1 && { cat=("$cand"); break; } ;;
    esac
  done
  if [ "${#cat[@]}" -eq 0 ]; then
    log "no catalogue server binary (shoplook catalogue / shoplook-catalogue): client tests are skipped"
    return 0
  fi
  log "catalogue server binary: ${cat[*]}"
  SERVER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/shoplook-bindings-catalogue.XXXXXX")"
  log "catalogue: ingesting fixtures/demo-catalogue/feed.jsonl into $SERVER_DIR/data"
  "${cat[@]}" ingest --data "$SERVER_DIR/data" --models "$ROOT/models" --allow-local-image-paths \
    fixtures/demo-catalogue/feed.jsonl >"$SERVER_DIR/ingest.log" 2>&1 \
    || { cat "$SERVER_DIR/ingest.log" >&2; log "catalogue ingest failed"; return 1; }
  SHOPLOOK_CATALOGUE_KEY="$("${cat[@]}" keys create --data "$SERVER_DIR/data" --name bindings-tests 2>/dev/null | tail -n1)"
  [ -n "$SHOPLOOK_CATALOGUE_KEY" ] || { log "catalogue keys create failed"; return 1; }
  # An advertiser key: the sponsored-product tests create (and pause) campaigns with it.
  SHOPLOOK_CATALOGUE_ADVERTISER_KEY="$("${cat[@]}" keys create --data "$SERVER_DIR/data" --name bindings-advertiser \
    --role advertiser 2>/dev/null | tail -n1)"
  [ -n "$SHOPLOOK_CATALOGUE_ADVERTISER_KEY" ] || { log "catalogue keys create --role advertiser failed"; return 1; }
  # An admin key: the demo tests count stored events on /metrics, which takes one.
  SHOPLOOK_CATALOGUE_ADMIN_KEY="$("${cat[@]}" keys create --data "$SERVER_DIR/data" --name bindings-ops \
    --admin 2>/dev/null | tail -n1)"
  [ -n "$SHOPLOOK_CATALOGUE_ADMIN_KEY" ] || { log "catalogue keys create --admin failed"; return 1; }
  # Two free loopback ports: one for the server, one where nothing will listen.
  read -r port offline_port < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
  "${cat[@]}" serve --data "$SERVER_DIR/data" --models "$ROOT/models" \
    --listen "127.0.0.1:$port" >"$SERVER_DIR/serve.log" 2>&1 &
  SERVER_PID=$!
  for i in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$SERVER_DIR/serve.log" >&2; log "catalogue server exited"; SERVER_PID=""; return 1
    fi
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 \
    || { cat "$SERVER_DIR/serve.log" >&2; log "catalogue server not ready after 60 s"; return 1; }
  export SHOPLOOK_CATALOGUE_URL="http://127.0.0.1:$port"
  export SHOPLOOK_CATALOGUE_KEY SHOPLOOK_CATALOGUE_ADVERTISER_KEY SHOPLOOK_CATALOGUE_ADMIN_KEY
  export SHOPLOOK_CATALOGUE_OFFLINE_URL="http://127.0.0.1:$offline_port"
  log "catalogue server: $SHOPLOOK_CATALOGUE_URL (pid $SERVER_PID)"
}

catalogue_start || die "could not start the catalogue server for the client tests"
