#!/usr/bin/env bash
# Runs the catalogue service tests against both stores: the embedded one (SQLite + HNSW in a
# temporary data dir) and a real PostgreSQL 18 + pgvector started here on loopback (never a
# mock). Used by .ci/run; also fine by hand.
#
#   scripts/test-catalogue.sh [extra cargo test args]
#
# Port: $SHOPLOOK_TEST_PG_PORT (default 54331, so it does not clash with a dev cluster on 54329).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
port="${SHOPLOOK_TEST_PG_PORT:-54331}"

"$here/setup-postgres.sh" >&2
cleanup() { "$here/stop-postgres.sh" "$port" >&2 || true; }
trap cleanup EXIT
url="$("$here/start-postgres.sh" "$port" | tail -n 1)"
export SHOPLOOK_TEST_PG_URL="$url"
echo "[test-catalogue] PostgreSQL + pgvector at $url" >&2

cd "$root"
cargo test -p shoplook-catalogue "$@"
