#!/usr/bin/env bash
# Checks README's Quick start on a fresh Debian 12 without a VM or Docker: debootstraps a minimal
# bookworm into ROOT, copies a clone of this checkout's HEAD to ROOT/root/kuiperd, and runs there, as
# root, exactly the README commands: `make run` (REST answers GET /, the MQTT port takes a
# mosquitto_pub, then kuiperd is stopped with SIGINT) and `make test` (every test must pass).
# Run by hand, as root on a Debian host with a reachable mirror; about 7 minutes on 2 cores. Never
# part of `make test`. See docs/deploy.md, "Checking a fresh Debian machine".
#
# Usage: sudo scripts/fresh_debian_check.sh [ROOT]   (default /var/tmp/kuiperd-fresh-debian)
#   ROOT is recreated; it must be absent or made by this script. Logs: ROOT/root/make-{run,test}.log.
#   MIRROR      Debian mirror (default: the host's first deb.debian.org-style URI, else deb.debian.org)
#   REST_PORT, MQTT_PORT, DASHBOARD_PORT   when 9081, 1883, 9082 are taken on this host: passed to
#               `make run` as KUIPER__BASIC__RESTPORT, KUIPER__BROKER__PORT, KUIPER__DASHBOARD__PORT
#               (the chroot shares the host's network).
#   AS_USER=1   then also `make test` in a second clone as user dev with sudo (about 5 minutes more).
set -euo pipefail

root=${1:-/var/tmp/kuiperd-fresh-debian}
src=$(cd "$(dirname "$0")/.." && pwd)
rest_port=${REST_PORT:-9081} mqtt_port=${MQTT_PORT:-1883} dash_port=${DASHBOARD_PORT:-9082}
marker=.kuiperd-fresh-debian
[ "$(id -u)" -eq 0 ] || { echo "run as root (debootstrap, chroot and mount need it)" >&2; exit 2; }

if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources \
             /etc/apt/sources.list 2>/dev/null | head -1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

step_start=0
step() { step_start=$(date +%s); echo "== $*"; }
done_step() { echo "   done in $(( $(date +%s) - step_start ))s"; }
clean_env=(env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
in_root() { "${clean_env[@]}" chroot "$root" /bin/bash -lc "$1"; }  # root's login shell in ROOT

run_pid=""
cleanup() {
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    pkill -INT -P "$run_pid" 2>/dev/null || true  # kuiperd, the child of make
    sleep 3
    kill "$run_pid" 2>/dev/null || true
  fi
  for m in dev/shm dev/pts sys proc; do
    mountpoint -q "$root/$m" && umount -l "$root/$m"
  done
  return 0
}
trap cleanup EXIT

step "debootstrap bookworm (minbase) into $root from $MIRROR"
command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
if [ -e "$root" ]; then
  [ -e "$root/$marker" ] || { echo "$root exists and was not made by this script" >&2; exit 2; }
  for m in dev/shm dev/pts sys proc; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
  rm -rf --one-file-system "$root"
fi
mkdir -p "$root" && touch "$root/$marker"
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.debootstrap.log" 2>&1 \
  || { tail -20 "$root.debootstrap.log"; exit 1; }
mv "$root.debootstrap.log" "$root/root/debootstrap.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then  # the host's Debian sources (security too)
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  rm -f "$root/etc/apt/sources.list"
fi
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666
mount -t tmpfs shm "$root/dev/shm"
done_step

step "clone $(git -C "$src" rev-parse --short HEAD) to $root/root/kuiperd (uncommitted changes are not in it)"
git clone -q "$src" "$root/root/kuiperd"
in_root 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git make >/dev/null'
done_step

step "make run"
for p in REST_PORT=$rest_port MQTT_PORT=$mqtt_port DASHBOARD_PORT=$dash_port; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${p#*=}") 2>/dev/null; then
    echo "port ${p#*=} is taken on this host: set ${p%=*} to another one" >&2; exit 2
  fi
done
# Not through in_root: env, chroot and bash exec into one another and into make, so $! is make's
# pid and kuiperd is its child.
"${clean_env[@]}" chroot "$root" /bin/bash -lc "cd /root/kuiperd && KUIPER__BASIC__RESTPORT=$rest_port \
  KUIPER__BROKER__PORT=$mqtt_port KUIPER__DASHBOARD__PORT=$dash_port exec make run" \
  >"$root/root/make-run.log" 2>&1 &
run_pid=$!
for _ in $(seq 1 360); do
  grep -q "MQTT broker listening" "$root/root/make-run.log" && break
  kill -0 "$run_pid" 2>/dev/null || { tail -30 "$root/root/make-run.log"; exit 1; }
  sleep 5
done
# curl and mosquitto-clients come with `make test` anyway; the check needs them now.
in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl mosquitto-clients >/dev/null'
in_root "curl -sf http://127.0.0.1:$rest_port/ | grep -q '\"version\"'" \
  || { echo "FAIL: GET / on $rest_port"; tail -30 "$root/root/make-run.log"; exit 1; }
in_root "curl -sf -o /dev/null http://127.0.0.1:$dash_port/" || { echo "FAIL: dashboard on $dash_port"; exit 1; }
got=$(in_root "(sleep 1; mosquitto_pub -h 127.0.0.1 -p $mqtt_port -t fresh/check -m '{\"t\": 25}') &
               timeout 10 mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t fresh/check -C 1") || true
[ "$got" = '{"t": 25}' ] || { echo "FAIL: MQTT publish on $mqtt_port came back as '$got'"; exit 1; }
echo "   REST $rest_port answers GET /, dashboard $dash_port answers, MQTT $mqtt_port delivered a publish"
pkill -INT -P "$run_pid" -x kuiperd || { echo "FAIL: kuiperd is not a child of make ($run_pid)"; exit 1; }
wait "$run_pid" || { echo "FAIL: make run did not exit 0 after SIGINT"; tail -20 "$root/root/make-run.log"; exit 1; }
run_pid=""
done_step

step "make test (log: $root/root/make-test.log)"
if ! in_root 'cd /root/kuiperd && make test' >"$root/root/make-test.log" 2>&1; then
  grep -E '^\s+[0-9]+ - ' "$root/root/make-test.log" || tail -30 "$root/root/make-test.log"
  echo "FAIL: make test"
  exit 1
fi
grep -E 'tests passed|Skipped|\*\*\*Skipped' "$root/root/make-test.log" || true
done_step

if [ "${AS_USER:-0}" = 1 ]; then  # README's other case: a user with sudo (packages now installed)
  step "make test as user dev with sudo (log: $root/home/dev/make-test.log)"
  in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null
           id dev >/dev/null 2>&1 || useradd -m -s /bin/bash dev
           echo "dev ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/dev
           rm -rf /home/dev/kuiperd && git clone -q /root/kuiperd /home/dev/kuiperd
           chown -R dev:dev /home/dev/kuiperd'
  if ! in_root 'su - dev -c "cd kuiperd && make test" >/home/dev/make-test.log 2>&1'; then
    grep -E '^\s+[0-9]+ - ' "$root/home/dev/make-test.log" || tail -30 "$root/home/dev/make-test.log"
    echo "FAIL: make test as dev"
    exit 1
  fi
  grep -E 'tests passed' "$root/home/dev/make-test.log"
  done_step
fi
echo "fresh Debian check passed"
