#!/usr/bin/env bash
# Sets up the real-browser tests, idempotently, on a fresh Debian machine (as root): Debian's
# chromium (apt; puppeteer never downloads a browser) and browser-tests/node_modules
# (puppeteer-core, pinned in browser-tests/package-lock.json; `npm ci` from a cache under
# $SHOPLOOK_TOOLS so a second run needs no network). Node.js >= 18 from apt if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
log() { printf '[setup-browser] %s\n' "$*" >&2; }
# apt_get: every apt-get of the project's scripts under one lock (scripts/lib/apt.sh).
# shellcheck source=lib/apt.sh
source scripts/lib/apt.sh

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
    log "apt-get install ${need_apt[*]}"
    apt_get update -qq
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
    log "node $(node --version) is too old: puppeteer-core needs >= 18"
    exit 1
fi

lock_sum=$(sha256sum browser-tests/package-lock.json | cut -c1-16)
stamp=browser-tests/node_modules/.shoplook-$lock_sum
if [ ! -f "$stamp" ]; then
    log "npm ci (puppeteer-core) into browser-tests/node_modules"
    mkdir -p "$TOOLS/npm-cache"
    (cd browser-tests && npm ci --no-audit --no-fund --ignore-scripts --cache "$TOOLS/npm-cache" >/dev/null)
    touch "$stamp"
fi
log "chromium: $(chromium --version 2>/dev/null | head -n1); node $(node --version)"
