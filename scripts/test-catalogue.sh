#!/usr/bin/env bash
# Runs the catalogue tests against both stores: the embedded one (SQLite + HNSW in a temporary
# data dir) and a real PostgreSQL 18 + pgvector started here on loopback (never a mock).
# scripts/test.sh runs the same suites inside its one `cargo t`; this is the narrow run by hand.
#
#   scripts/test-catalogue.sh [cargo test args]   (default: the catalogue crates' tests, then
#                                                  the server tests cli/tests/catalogue_*.rs)
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
# `cargo t`: the release build every suite shares (.cargo/config.toml).
if [ "$#" -gt 0 ]; then
  exec cargo t "$@"
fi
cargo t -p shoplook-store -p shoplook-domain -p shoplook-http -p shoplook-tools
server_tests=()
for t in cli/tests/catalogue_*.rs; do server_tests+=(--test "$(basename "$t" .rs)"); done
cargo t -p shoplook-cli "${server_tests[@]}"
