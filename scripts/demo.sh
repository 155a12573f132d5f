#!/usr/bin/env bash
# The whole product on one machine: build, make a small demo catalogue from real product
# photos, serve it on loopback, and look up a street photo against it.
#
#   scripts/demo.sh [PHOTO]          (default: fixtures/external/bus.jpg)
#   scripts/demo.sh --serve [PHOTO]  then keep serving on 127.0.0.1:8787 for the demo apps
#                                    (the emulator's 10.0.2.2:8787, the simulator's localhost:8787)
#                                    and print their API key; Ctrl-C stops it
#
# DEMO DATA: the catalogue (fixtures/demo-catalogue/) is crops of real, permissively licensed
# photos with made-up titles, brands and prices and example.com purchase links.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
listen=127.0.0.1:0
serve=0
if [[ "${1:-}" == --serve ]]; then
    serve=1
    listen="${SHOPLOOK_DEMO_LISTEN:-127.0.0.1:8787}"
    shift
fi
photo="${1:-fixtures/external/bus.jpg}"

log() { echo "[demo] $*" >&2; }

if [[ "$photo" == fixtures/external/* ]]; then
    scripts/fetch-photos.sh
fi
# `cargo b` (.cargo/config.toml: release, whole workspace, all targets, the bindings' test
# hooks) is exactly the build scripts/test.sh makes, so after the tests nothing recompiles
# here and the other way round. A narrower `cargo build --release -p shoplook-cli` resolves
# other features for shared dependencies, so on a clone that had run the tests it compiled
# tract and most of the workspace again (issue 21). On a fresh clone this also compiles the
# test targets, which scripts/test.sh then reuses. The binary is target/release/shoplook.
log "building (cargo b: the release build scripts/test.sh makes too)"
cargo b >&2
bin="$root/target/release/shoplook"
[[ -x "$bin" ]] || { log "$bin missing after cargo b"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/shoplook-demo.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

data="$work/catalogue"
log "ingesting the demo catalogue (DEMO DATA, example.com links) into $data"
# The checkout's own feed names its images by local path: allowed explicitly.
"$bin" catalogue ingest --data "$data" --allow-local-image-paths fixtures/demo-catalogue/feed.jsonl >&2
key="$("$bin" catalogue keys create --data "$data" --name demo 2>/dev/null)"

log "starting the embedded catalogue service on loopback"
"$bin" catalogue serve --data "$data" --listen "$listen" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
url=""
for _ in $(seq 100); do
    url="$(grep -o 'http://[0-9.]*:[0-9]*' "$work/serve.out" 2>/dev/null | head -n 1 || true)"
    [[ -n "$url" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$url" ]] || { log "the server did not start"; cat "$work/serve.err" >&2; exit 1; }
log "serving at $url"

# --pose: each person's top, bottoms, shoes, headwear and eyewear are looked up too (P0, P1...).
log "shoplook lookup $photo --pose --server $url --api-key slk_..."
"$bin" lookup "$photo" --pose --server "$url" --api-key "$key"

if [[ "$serve" == 1 ]]; then
    log "serving the demo catalogue for the apps at $url (until Ctrl-C)"
    log "API key for the apps' Settings: $key"
    wait "$server_pid"
fi
