#!/usr/bin/env bash
# Set up the host-side toolchain for the Kotlin binding tests (JVM, no Android).
#
#   - Java 17+ (javac/java): Debian default-jdk-headless if missing or too old
#   - JNA (Debian libjna-java + libjna-jni), JUnit 4 (junit4), hamcrest (libhamcrest-java)
#   - Kotlin compiler ${KOTLIN_VERSION} from the npm registry (npm pack + untar), cached at
#     ${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}/kotlin-${KOTLIN_VERSION}
#
# Writes ${SHOPLOOK_TOOLS}/kotlin.env (KOTLINC, KOTLIN_HOME, KOTLIN_LIB, JNA_JAR, JUNIT_JAR,
# HAMCREST_JAR, KOTLIN_TEST_CP, KOTLIN_RUN_CP) for other scripts to `source`, then compiles and
# runs a small Kotlin program (coroutines + JNA calling libc getpid) in a temp dir as a smoke test.
#
# Idempotent: a re-run with everything in place does no downloads and no apt calls.
# Needs root only when Debian packages are missing.
# The smoke test runs when the env file changed or has not passed it yet (stamp
# ${SHOPLOOK_TOOLS}/kotlin-smoke.ok); SHOPLOOK_SMOKE=1 forces it, SHOPLOOK_SMOKE=0 skips it.
set -euo pipefail

KOTLIN_VERSION="${KOTLIN_VERSION:-2.4.20}"
TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
KOTLIN_HOME="${TOOLS}/kotlin-${KOTLIN_VERSION}"
ENV_FILE="${TOOLS}/kotlin.env"
STAMP="${KOTLIN_HOME}/.shoplook-complete"
SMOKE_STAMP="${TOOLS}/kotlin-smoke.ok"   # removed whenever anything gets (re)installed

# apt_get: every apt-get of the project's scripts under one lock (scripts/lib/apt.sh).
# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

log() { printf '[setup-kotlin] %s\n' "$*" >&2; }
die() { printf '[setup-kotlin] ERROR: %s\n' "$*" >&2; exit 1; }

# Serialize concurrent runs (two CI jobs on one machine) on a lock file in the cache dir.
mkdir -p "$TOOLS"
exec 9>"${TOOLS}/.kotlin.lock"
flock 9

# ---------------------------------------------------------------------------- apt helpers
APT_UPDATED=0
apt_install() {
  [ "$(id -u)" -eq 0 ] || die "need root to apt-get install: $*"
  rm -f "$SMOKE_STAMP"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt_get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  apt_get install -y -q --no-install-recommends "$@" >/dev/null
}

java_major() { # prints the major version of the given java/javac binary, or 0
  local v
  v="$("$1" -version 2>&1 | grep -Eo '[0-9]+(\.[0-9]+)*' | head -n1 || true)"
  v="${v%%.*}"
  [ "$v" = "1" ] && v=8
  echo "${v:-0}"
}

# ---------------------------------------------------------------------------- Java 17+
need_jdk=0
if ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
  need_jdk=1
elif [ "$(java_major javac)" -lt 17 ] || [ "$(java_major java)" -lt 17 ]; then
  need_jdk=1
fi
if [ "$need_jdk" -eq 1 ]; then
  apt_install default-jdk-headless   # openjdk-17 on Debian 12
  # default-jdk-headless on bookworm is 17, but if alternatives point elsewhere, prefer 17.
  if [ "$(java_major javac)" -lt 17 ] && [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/javac ]; then
    update-alternatives --set java  /usr/lib/jvm/java-17-openjdk-amd64/bin/java
    update-alternatives --set javac /usr/lib/jvm/java-17-openjdk-amd64/bin/javac
  fi
fi
[ "$(java_major javac)" -ge 17 ] || die "javac >= 17 not available after install"
log "java: $(java -version 2>&1 | head -n1)"

# ---------------------------------------------------------------------------- JNA / JUnit / hamcrest
JNA_JAR=/usr/share/java/jna.jar
JUNIT_JAR=/usr/share/java/junit4.jar
HAMCREST_JAR=/usr/share/java/hamcrest.jar   # libhamcrest-java 2.2; hamcrest-core.jar is a symlink to it

pkgs=()
[ -f "$JNA_JAR" ] || pkgs+=(libjna-java)
ls /usr/lib/*/jni/libjnidispatch*.so >/dev/null 2>&1 || pkgs+=(libjna-jni)
[ -f "$JUNIT_JAR" ] || pkgs+=(junit4)
[ -f "$HAMCREST_JAR" ] || pkgs+=(libhamcrest-java)
if [ "${#pkgs[@]}" -gt 0 ]; then
  apt_install "${pkgs[@]}"
fi
for f in "$JNA_JAR" "$JUNIT_JAR" "$HAMCREST_JAR"; do
  [ -f "$f" ] || die "missing $f after install"
done

# ---------------------------------------------------------------------------- Kotlin compiler (npm)
kotlin_ok() {
  [ -f "$STAMP" ] || return 1
  [ -x "$KOTLIN_HOME/bin/kotlinc" ] || return 1
  local j
  for j in kotlin-compiler.jar kotlin-stdlib.jar kotlin-test.jar kotlin-test-junit.jar kotlinx-coroutines-core-jvm.jar; do
    [ -s "$KOTLIN_HOME/lib/$j" ] || return 1
  done
}

if kotlin_ok; then
  log "kotlin ${KOTLIN_VERSION}: cached at $KOTLIN_HOME"
else
  command -v npm >/dev/null 2>&1 || apt_install npm
  command -v tar >/dev/null 2>&1 || apt_install tar
  rm -f "$SMOKE_STAMP"
  rm -rf "${TOOLS}/.kotlin-${KOTLIN_VERSION}."*   # staging dirs left by a killed run
  staging="$(mktemp -d "${TOOLS}/.kotlin-${KOTLIN_VERSION}.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  log "fetching kotlin-compiler@${KOTLIN_VERSION} from npm (~90 MB)"
  # npm pack checks the tarball against the registry's integrity hash.
  ( cd "$staging" && npm pack --silent "kotlin-compiler@${KOTLIN_VERSION}" >/dev/null )
  tgz="$staging/kotlin-compiler-${KOTLIN_VERSION}.tgz"
  [ -s "$tgz" ] || die "npm pack did not produce $tgz"
  mkdir "$staging/x"
  tar -xzf "$tgz" -C "$staging/x" --no-same-owner
  [ -x "$staging/x/package/bin/kotlinc" ] || die "unexpected package layout (no package/bin/kotlinc)"
  rm -rf "$KOTLIN_HOME"              # a half-built or stale copy
  mv "$staging/x/package" "$KOTLIN_HOME"
  rm -rf "$staging"; trap - EXIT
  "$KOTLIN_HOME/bin/kotlinc" -version >/dev/null 2>&1 || die "kotlinc does not run"
  : > "$STAMP"
  kotlin_ok || die "kotlin install incomplete"
  log "kotlin ${KOTLIN_VERSION}: installed at $KOTLIN_HOME"
fi
KOTLINC="$KOTLIN_HOME/bin/kotlinc"
KOTLIN_LIB="$KOTLIN_HOME/lib"

# ---------------------------------------------------------------------------- env file
KOTLIN_TEST_CP="$JNA_JAR:$KOTLIN_LIB/kotlinx-coroutines-core-jvm.jar:$KOTLIN_LIB/kotlin-test.jar:$KOTLIN_LIB/kotlin-test-junit.jar:$JUNIT_JAR"
KOTLIN_RUN_CP="$KOTLIN_LIB/kotlin-stdlib.jar:$KOTLIN_TEST_CP:$HAMCREST_JAR"
mkdir -p "$TOOLS"
tmp_env="$(mktemp "${ENV_FILE}.XXXXXX")"
cat > "$tmp_env" <<EOF
# Written by scripts/setup-kotlin.sh; source this file.
# Compile:  "\$KOTLINC" -cp "\$KOTLIN_TEST_CP" -d out.jar SRC...   (kotlinc adds kotlin-stdlib itself)
# Run:      java -Djna.library.path=DIR -cp "out.jar:\$KOTLIN_RUN_CP" MainKt
export KOTLIN_VERSION='${KOTLIN_VERSION}'
export KOTLIN_HOME='${KOTLIN_HOME}'
export KOTLINC='${KOTLINC}'
export KOTLIN_LIB='${KOTLIN_LIB}'
export JNA_JAR='${JNA_JAR}'
export JUNIT_JAR='${JUNIT_JAR}'
export HAMCREST_JAR='${HAMCREST_JAR}'
export KOTLIN_TEST_CP='${KOTLIN_TEST_CP}'
export KOTLIN_RUN_CP='${KOTLIN_RUN_CP}'
EOF
chmod 0644 "$tmp_env"
mv -f "$tmp_env" "$ENV_FILE"
log "wrote $ENV_FILE"

# ---------------------------------------------------------------------------- smoke test
env_sum="$(sha256sum "$ENV_FILE" | cut -d' ' -f1)"
run_smoke="${SHOPLOOK_SMOKE:-auto}"
if [ "$run_smoke" = auto ]; then
  if [ -f "$SMOKE_STAMP" ] && [ "$(cat "$SMOKE_STAMP")" = "$env_sum" ]; then run_smoke=0; else run_smoke=1; fi
fi
if [ "$run_smoke" = 1 ]; then
  rm -f "$SMOKE_STAMP"
  smoke="$(mktemp -d "${TMPDIR:-/tmp}/shoplook-kotlin-smoke.XXXXXX")"
  trap 'rm -rf "$smoke"' EXIT
  cat > "$smoke/Main.kt" <<'EOF'
import com.sun.jna.Library
import com.sun.jna.Native
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking

interface CLib : Library {
    fun getpid(): Int
}

fun pidViaJna(): Int = runBlocking {
    val libc = Native.load("c", CLib::class.java)
    async { delay(10); libc.getpid() }.await()
}

fun main() {
    val pid = pidViaJna()
    check(pid == ProcessHandle.current().pid().toInt()) { "getpid via JNA = $pid" }
    println("smoke ok: pid=$pid")
}
EOF
  cat > "$smoke/SmokeTest.kt" <<'EOF'
import kotlin.test.Test
import kotlin.test.assertEquals

class SmokeTest {
    @Test
    fun jnaGetpid() {
        assertEquals(ProcessHandle.current().pid().toInt(), pidViaJna())
    }
}
EOF
  log "smoke test: compiling (kotlinc, ~10-20 s)"
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  "$KOTLINC" -nowarn -cp "$KOTLIN_TEST_CP" -d "$smoke/smoke.jar" "$smoke/Main.kt" "$smoke/SmokeTest.kt" \
    2>"$smoke/kotlinc.log" || { cat "$smoke/kotlinc.log" >&2; die "smoke test failed to compile"; }
  out="$(java -cp "$smoke/smoke.jar:$KOTLIN_RUN_CP" MainKt)" || die "smoke program failed to run"
  case "$out" in
    "smoke ok: pid="*) log "$out" ;;
    *) die "unexpected smoke output: $out" ;;
  esac
  java -cp "$smoke/smoke.jar:$KOTLIN_RUN_CP" org.junit.runner.JUnitCore SmokeTest >"$smoke/junit.log" 2>&1 \
    || { cat "$smoke/junit.log" >&2; die "smoke JUnit test failed"; }
  log "smoke JUnit test ok"
  rm -rf "$smoke"; trap - EXIT
  echo "$env_sum" > "$SMOKE_STAMP"
fi

echo "KOTLIN_ENV=$ENV_FILE"
cat "$ENV_FILE"
