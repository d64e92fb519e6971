#!/usr/bin/env bash
# deploy/: validates docker-compose.yml with `docker-compose config` (Debian's docker-compose
# 1.29; no Docker engine runs here, so the images are neither built nor run) and checks what the
# deployment promises: three services from one image: the broker runs --broker-only on 1883/8083
# (its dashboard port serving only the live views), the engine reads MQTT from it with its own
# broker and dashboard off and publishes REST 9081, the dashboard runs --dashboard-only on 9082
# forwarding to both; data/ and log/ are volumes, and every service has a health check. The
# forwarding itself runs for real in test_dashboard_proxy.py. The Dockerfile is checked for its two stages, and its
# runtime package list against the libraries the built kuiperd actually needs.
set -euo pipefail
src=${EK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
kuiperd=${KUIPERD:-$src/build/bin/kuiperd}
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! command -v docker-compose >/dev/null; then
  "$src/scripts/install-deps.sh" test >/dev/null 2>&1 || true
fi
command -v docker-compose >/dev/null || fail "docker-compose is not installed (scripts/install-deps.sh test installs it)"

cfg=$(cd "$src/deploy" && docker-compose -f docker-compose.yml config) || fail "docker-compose config rejected deploy/docker-compose.yml"
services=$(cd "$src/deploy" && docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
[ "$services" = "broker dashboard engine " ] || fail "services are '$services', expected 'broker dashboard engine '"

# The section of one service in the normalised output.
service() { awk -v s="  $1:" '$0 == s {on=1; next} on && /^  [a-z]/ {on=0} on' <<<"$cfg"; }
broker=$(service broker)
engine=$(service engine)
dashboard=$(service dashboard)
expect() { grep -qF -- "$2" <<<"$3" || fail "$1: expected '$2' in:\n$3"; }
expect broker "- --broker-only" "$broker"
expect broker "published: 1883" "$broker"
expect broker "published: 8083" "$broker"
expect broker "broker-data:/kuiper/data" "$broker"
expect broker "broker-log:/kuiper/log" "$broker"
expect broker "healthcheck:" "$broker"
expect engine "MQTT_SOURCE__DEFAULT__SERVER: tcp://broker:1883" "$engine"
expect engine 'KUIPER__BROKER__ENABLE: "false"' "$engine"
expect broker "KUIPER__DASHBOARD__PORT: '9082'" "$broker"
expect broker "http://127.0.0.1:9082/" "$broker"
grep -qF "published: 9082" <<<"$broker" && fail "broker: its tap port 9082 must not be published"
expect engine "published: 9081" "$engine"
expect engine 'KUIPER__DASHBOARD__ENABLE: "false"' "$engine"
grep -qF "published: 9082" <<<"$engine" && fail "engine: 9082 belongs to the dashboard service"
expect engine "engine-data:/kuiper/data" "$engine"
expect engine "engine-log:/kuiper/log" "$engine"
expect engine "http://127.0.0.1:9081/ping" "$engine"
expect engine "condition: service_healthy" "$engine"
expect dashboard "- --dashboard-only" "$dashboard"
expect dashboard "- --rest-upstream" "$dashboard"
expect dashboard "- http://engine:9081" "$dashboard"
expect dashboard "- --tap-upstream" "$dashboard"
expect dashboard "- http://broker:9082" "$dashboard"
expect dashboard "KUIPER__DASHBOARD__RESTUPSTREAM: http://engine:9081" "$dashboard"
expect dashboard "published: 9082" "$dashboard"
expect dashboard "dashboard-data:/kuiper/data" "$dashboard"
expect dashboard "dashboard-log:/kuiper/log" "$dashboard"
expect dashboard "http://127.0.0.1:9082/api/ping" "$dashboard"
grep -qF -- "engine:" <<<"$dashboard" || fail "dashboard: must depend on the engine"
echo "ok - docker-compose config: services broker, engine and dashboard, ports, volumes, health checks"

# The flags the dashboard service runs with are kuiperd's: --help lists them.
if [ -x "$kuiperd" ]; then
  help=$("$kuiperd" --help)
  for flag in --broker-only --dashboard-only --rest-upstream --tap-upstream; do
    grep -qF -- "$flag" <<<"$help" || fail "kuiperd --help does not mention $flag used by docker-compose.yml"
  done
  echo "ok - kuiperd knows the flags the services run with"
fi

df="$src/deploy/Dockerfile"
grep -q '^FROM debian:bookworm AS build$' "$df" || fail "Dockerfile: no build stage on debian:bookworm"
grep -q '^FROM debian:bookworm-slim$' "$df" || fail "Dockerfile: no runtime stage on debian:bookworm-slim"
grep -q 'scripts/install-deps.sh run' "$df" || fail "Dockerfile: the build stage must use scripts/install-deps.sh"
grep -A1 '^HEALTHCHECK' "$df" | grep -q '9081/ping' || fail "Dockerfile: no HEALTHCHECK on /ping"
for p in "$src"/deploy/docker-compose.yml "$df"; do
  grep -q $'\t' "$p" && fail "$p contains a tab"
done
for pattern in build 'build-\*' .git; do
  grep -qx "$pattern" "$src/deploy/Dockerfile.dockerignore" || fail "deploy/Dockerfile.dockerignore does not leave out $pattern"
done
echo "ok - Dockerfile: two stages, install-deps.sh, health check"

# Every library kuiperd links directly must come from a package the runtime stage installs.
# The package names are the lines between `apt-get install ... --no-install-recommends \` and `&& rm -rf`.
runtime=$(sed -n '/^FROM debian:bookworm-slim/,$p' "$df" | sed -n '/--no-install-recommends/,/rm -rf/p' | sed '1d;$d' \
  | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' || true)
[ -n "$runtime" ] || fail "could not read the runtime package list of deploy/Dockerfile"
if [ -x "$kuiperd" ] && command -v objdump >/dev/null; then
  for lib in $(objdump -p "$kuiperd" | awk '/NEEDED/ {print $2}'); do
    # A sanitizer build (make test-asan) links the sanitizer runtimes, which no image ships.
    case "$lib" in libasan.so*|libubsan.so*|liblsan.so*|libtsan.so*) continue ;; esac
    pkg=$(dpkg -S "*/$lib" 2>/dev/null | cut -d: -f1 | grep -v -- '-dev$' | sort -u | head -1)
    [ -n "$pkg" ] || fail "no Debian package provides $lib"
    case "$pkg" in libc6|libgcc-s1) continue ;; esac
    grep -qx "$pkg" <<<"$runtime" || fail "kuiperd needs $lib from $pkg, which deploy/Dockerfile's runtime stage does not install"
  done
  echo "ok - the runtime stage installs every library kuiperd links"
  # The libraries kuiperd opens on first use (engine/lazy_lib.h) are not NEEDED: their sonames are
  # strings in the binary ("libssl.so.3", "libcurl.so.4", ...), and the image must ship them too.
  for lib in $(strings "$kuiperd" | grep -E '^lib[A-Za-z0-9_.+-]+\.so\.[0-9]+(:.*)?$' | tr ':' '\n' | sort -u); do
    pkg=$(dpkg -S "*/$lib" 2>/dev/null | cut -d: -f1 | grep -v -- '-dev$' | sort -u | head -1)
    case "$lib" in libasan.so*|libubsan.so*|liblsan.so*|libtsan.so*) continue ;; esac
    [ -n "$pkg" ] || fail "no Debian package provides $lib, which kuiperd loads on first use"
    case "$pkg" in libc6|libgcc-s1) continue ;; esac
    grep -qx "$pkg" <<<"$runtime" || fail "kuiperd loads $lib (from $pkg) on first use, which deploy/Dockerfile's runtime stage does not install"
  done
  echo "ok - the runtime stage installs every library kuiperd loads on first use"
  for p in $runtime; do
    apt-cache show "$p" >/dev/null 2>&1 || fail "deploy/Dockerfile installs $p, which apt-cache does not know"
  done
  echo "ok - every runtime package exists in Debian"
else
  echo "# $kuiperd not built: the runtime library check was skipped"
fi
