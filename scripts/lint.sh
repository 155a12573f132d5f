#!/usr/bin/env bash
# The lint gate: formatting and clippy over the whole workspace, warnings as errors.
#
#   scripts/lint.sh          # cargo fmt --check, then clippy on every crate and target
#
# .ci/run checks the formatting on every run (seconds). Clippy is here, not in CI: it compiles
# every dependency again in check mode (8 minutes of both cores here from an empty target dir), which would take
# CI past its 60-minute budget. Run it before pushing; it prints `lint: ok` when clean.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "[lint] cargo fmt --check" >&2
cargo fmt --all -- --check
# The same features as `cargo b` (.cargo/config.toml), so the test hooks are linted too; its own
# target dir, so the release build that the tests share is not touched.
echo "[lint] cargo clippy (workspace, all targets, -D warnings)" >&2
CARGO_TARGET_DIR="${SHOPLOOK_LINT_TARGET:-target/lint}" \
  cargo clippy --workspace --all-targets --features shoplook-ffi/test-hooks -- -D warnings
echo "lint: ok"
