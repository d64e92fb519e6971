#!/usr/bin/env bash
# The bundled broker with the Mosquitto command-line clients (mosquitto_pub/mosquitto_sub), for
# MQTT 3.1.1 (-V 311) and 5.0 (-V 5): publish/subscribe at QoS 0-2, retained messages, wills,
# $SYS, user properties, and a persistent session receiving what was published while it was away.
# Starts `kuiperd --broker-only` on a free 127.0.0.1 port with a private directory; every client
# call is bounded by timeout(1); the broker is stopped on exit.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kuiperd=${KUIPERD:-$root/build/bin/kuiperd}
dir=$(mktemp -d "${TMPDIR:-/tmp}/ek-broker-mosq.XXXXXX")
# harness.free_port: below the kernel's ephemeral range, so no outgoing connection of a test running
# beside this one (a browser's, say) can hold it when kuiperd binds it.
port=$(cd "$root/tests/integration" && /usr/bin/python3 -c 'from harness import free_port; print(free_port())')
mkdir -p "$dir/etc" "$dir/data" "$dir/log"
cp -r "$root/etc/." "$dir/etc/"
KUIPER__BROKER__BIND=127.0.0.1 KUIPER__BROKER__PORT=$port KUIPER__BROKER__SYSINTERVAL=1 \
	"$kuiperd" --broker-only --etc "$dir/etc" --data "$dir/data" --log "$dir/log" --plugins "$dir/plugins" \
	>"$dir/kuiperd.out" 2>&1 &
pid=$!
cleanup() {
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.05
done

fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
check() { # name expected actual
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}
pub() { timeout 5 mosquitto_pub -h 127.0.0.1 -p "$port" "$@"; }
sub() { timeout 5 mosquitto_sub -h 127.0.0.1 -p "$port" "$@"; }
# bgsub ARGS...: starts mosquitto_sub -d in the background (output in $dir/out, pid in $spid) and
# returns once its SUBACK arrived, so a publish that follows cannot race the subscription.
bgsub() {
	rm -f "$dir/raw" # else the wait below could see the previous subscriber's output
	timeout 6 stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$port" -d "$@" >"$dir/raw" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		grep -q '^Subscribed' "$dir/raw" 2>/dev/null && return 0
		sleep 0.05
	done
}
# bgwait: waits for the background subscriber and leaves its messages (no debug lines) in $dir/out.
bgwait() {
	wait "$spid"
	grep -v '^Client \|^Subscribed' "$dir/raw" >"$dir/out"
}

for v in 311 5; do
	for q in 0 1 2; do
		bgsub -V $v -t "m/$v/$q" -q $q -C 1 -W 4
		pub -V $v -t "m/$v/$q" -q $q -m "hello $v $q"
		bgwait
		check "pub/sub V$v qos$q" "hello $v $q" "$(cat "$dir/out")"
	done
	pub -V $v -t "r/$v" -r -q 1 -m "kept $v"
	check "retained V$v" "kept $v" "$(sub -V $v -t "r/$v" -C 1 -W 3)"
	pub -V $v -t "r/$v" -r -n
	check "retained deleted V$v" "" "$(sub -V $v -t "r/$v" -C 1 -W 1 2>/dev/null)"
done

# A persistent session (3.1.1 clean session false; 5.0 session expiry) gets what it missed.
sub -V 311 -i keep311 -c -q 1 -t "p/311" -C 1 -W 1 >/dev/null 2>&1
pub -V 311 -t p/311 -q 1 -m missed311
check "persistent session V311" "missed311" "$(sub -V 311 -i keep311 -c -q 1 -t p/311 -C 1 -W 3)"
sub -V 5 -i keep5 -c -x 60 -q 1 -t "p/5" -C 1 -W 1 >/dev/null 2>&1
pub -V 5 -t p/5 -q 1 -m missed5
check "persistent session V5" "missed5" "$(sub -V 5 -i keep5 -c -x 60 -q 1 -t p/5 -C 1 -W 3)"

# User properties pass through (mosquitto_sub -F %P prints them).
bgsub -V 5 -t up -C 1 -W 4 -F '%P %p'
pub -V 5 -t up -m body -D publish user-property key value
bgwait
check "user property V5" "key:value body" "$(cat "$dir/out")"

# A will, when the client is killed.
bgsub -V 5 -t will/x -C 1 -W 4
stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$port" -d -V 5 -t none --will-topic will/x --will-payload died -W 5 \
	>"$dir/will" 2>&1 &
wpid=$!
for _ in $(seq 100); do # killed only once it is connected and subscribed
	grep -q '^Subscribed' "$dir/will" 2>/dev/null && break
	sleep 0.05
done
{ kill -KILL $wpid; wait $wpid; } 2>/dev/null
bgwait
check "will V5" "died" "$(cat "$dir/out")"

# $SYS, and '#' does not see it.
check "\$SYS version" "0.1.0" "$(sub -V 5 -t '$SYS/brokers/+/version' -C 1 -W 3)"
check "# skips \$SYS" "" "$(sub -V 5 -t '#' -C 1 -W 2 -F %t 2>/dev/null | grep -c '^\$SYS' | sed 's/^0$//')"

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed; broker output:"
	tail -20 "$dir/kuiperd.out"
	exit 1
fi
echo "all checks passed"
