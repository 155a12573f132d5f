#!/usr/bin/env bash
# Runs the catalogue tests against both stores: the embedded one (SQLite + HNSW in a temporary
# data dir) and a real PostgreSQL 18 + pgvector started here on loopback (never a mock).
# scripts/test.sh runs the same suites inside its one `cargo t`; this is the narrow run by hand.
#
#   scripts/test-catalogue.sh [cargo test args]   (default: the catalogue's test targets)
#
# Port: $SHOPLOOK_TEST_PG_PORT (default 54331, so it does not clash with a dev cluster on 54329).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
port="${SHOPLOOK_TEST_PG_PORT:-54331}"

"$here/setup-postgres.sh" >&2
"$here/fetch-photos.sh" >&2
cleanup() { "$here/stop-postgres.sh" "$port" >&2 || true; }
trap cleanup EXIT
url="$("$here/start-postgres.sh" "$port" | tail -n 1)"
export SHOPLOOK_TEST_PG_URL="$url"
echo "[test-catalogue] PostgreSQL + pgvector at $url" >&2

cd "$root"
if [ "$#" -eq 0 ]; then
  set -- $(for t in catalogue/tests/*.rs; do printf -- '--test %s ' "$(basename "$t" .rs)"; done)
fi
# `cargo t`: the release build every suite shares (.cargo/config.toml).
cargo t "$@"
