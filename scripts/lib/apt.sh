# shellcheck shell=bash
# Sourced (not run) by every script of the project that calls apt-get on the host: one lock of
# the project's own around each apt-get call, so that the setup jobs scripts/test.sh runs in the
# background (Kotlin, Swift's debootstrap, chromium, the cross compilers, python3-venv...) never
# trip over each other.
#
#   apt_get update -qq                 # instead of: apt-get -o DPkg::Lock::Timeout=600 update -qq
#   DEBIAN_FRONTEND=noninteractive apt_get install -y -qq PKG...
#   apt_get_sudo install -y PKG...     # through sudo when not root (scripts/cross-env.sh)
#
# Why: `-o DPkg::Lock::Timeout=600` makes apt wait for dpkg's locks only; `apt-get update` also
# takes /var/lib/apt/lists/lock and fails at once when another apt-get holds it ("Could not get
# lock /var/lib/apt/lists/lock. It is held by process N (apt-get)": CI, issue 21). Two of our
# jobs running `update` at the same moment was enough. Every call (update, install, download)
# now waits for $SHOPLOOK_APT_LOCK (flock, util-linux) and still passes DPkg::Lock::Timeout for
# apt runs that are not ours (unattended-upgrades and the like).
#
# The lock is held by flock(1) itself; `-o` closes it in apt-get, so a daemon that a package's
# postinst starts cannot keep holding it. SHOPLOOK_APT_LOCK_WAIT: seconds to wait (default 1800).
#
# Not for apt-get inside a chroot (scripts/setup-swift.sh): that apt has its own lists, cache and
# dpkg database, and so its own locks, and it never touches the host's.

SHOPLOOK_APT_LOCK="${SHOPLOOK_APT_LOCK:-/var/lock/shoplook-apt.lock}"

apt_get() { _shoplook_apt_locked "" "$@"; }

apt_get_sudo() {
  if [ "$(id -u)" = 0 ]; then _shoplook_apt_locked "" "$@"; else _shoplook_apt_locked sudo "$@"; fi
}

# _shoplook_apt_locked SUDO ARGS...: apt-get ARGS under the project's lock (SUDO: "" or sudo; the
# lock file is then opened by root too, so it is always root's).
_shoplook_apt_locked() {
  local pre=() wait="${SHOPLOOK_APT_LOCK_WAIT:-1800}" rc=0
  if [ -n "$1" ]; then pre=("$1"); fi
  shift
  # /var/lock is /run/lock on Debian; a bare container may lack it.
  [ -d "${SHOPLOOK_APT_LOCK%/*}" ] || "${pre[@]}" mkdir -p "${SHOPLOOK_APT_LOCK%/*}" 2>/dev/null || true
  if ! "${pre[@]}" flock -n "$SHOPLOOK_APT_LOCK" true 2>/dev/null; then
    printf '[apt] apt-get %s: waiting for another apt-get of this project (%s)\n' \
      "${1:-}" "$SHOPLOOK_APT_LOCK" >&2
  fi
  "${pre[@]}" flock -o -w "$wait" -E 75 "$SHOPLOOK_APT_LOCK" \
    apt-get -o DPkg::Lock::Timeout=600 "$@" || rc=$?
  if [ "$rc" = 75 ]; then
    printf '[apt] gave up on apt-get %s after waiting %ss for %s\n' \
      "${1:-}" "$wait" "$SHOPLOOK_APT_LOCK" >&2
  fi
  return "$rc"
}
