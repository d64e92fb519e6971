#!/usr/bin/env bash
# Optional conformance run: the Eclipse Paho MQTT interoperability suite (client_test.py for
# MQTT 3.1.1, client_test5.py for MQTT 5) against a kuiperd broker this script starts, or against
# Mosquitto for the baseline. The suite is not shipped with kuiperd and this script fetches
# nothing: pass the path of a checkout of github.com/eclipse/paho.mqtt.testing. Each test runs in
# its own process under a timeout (paho_interop.py), so one hanging test cannot stall the rest; if
# the broker dies during a test it is reported as a crash and restarted. See docs/broker-conformance.md.
#
# Usage: run-paho-interop.sh [options] SUITE_DIR
#   --kuiperd PATH   the kuiperd to test (default: $KUIPERD, else build/bin/kuiperd)
#   --mosquitto      test /usr/sbin/mosquitto instead (baseline)
#   --port N         test a broker already listening on 127.0.0.1:N (start nothing)
#   --only 3|5       run only the MQTT 3.1.1 or only the MQTT 5 file
#   --timeout S      per-test timeout in seconds (default 60)
#   --test NAME      run only this test (repeatable)
# Exit status: 0 when every test that ran passed, 1 otherwise, 2 on a usage or start error.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/conformance/brokers.sh
. "$here/brokers.sh"

kuiperd=${KUIPERD:-$root/build/bin/kuiperd}
mode=kuiperd
port=
only=
per_test=60
tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--kuiperd) kuiperd=$2; shift 2 ;;
	--mosquitto) mode=mosquitto; shift ;;
	--port) mode=external; port=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--timeout) per_test=$2; shift 2 ;;
	--test) tests+=("$2"); shift 2 ;;
	-h | --help) sed -n '2,18p' "$0"; exit 0 ;;
	-*) echo "unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -ne 1 ] || [ ! -f "$1/interoperability/client_test5.py" ]; then
	echo "usage: run-paho-interop.sh [options] SUITE_DIR (a checkout of eclipse/paho.mqtt.testing)" >&2
	exit 2
fi
suite=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/paho-interop.XXXXXX)
pid=

start_broker() {
	[ "$mode" = external ] && return 0
	port=$(ek_free_port)
	# The suite expects a broker that caps keep-alive at 60 s (test_server_keep_alive) and refuses
	# subscriptions to test/nosubscribe (test_subscribe_failure; Mosquitto's acl_file cannot
	# refuse a SUBSCRIBE, so Mosquitto fails that one).
	if [ "$mode" = mosquitto ]; then
		ek_start_mosquitto "$work/broker" "$port" "max_keepalive 60" || return 1
	else
		ek_start_kuiperd "$kuiperd" "$work/broker" "$port" "$(printf '%s\n' '  maxKeepalive: 60' '  acl:' \
			'    - {permission: deny, action: subscribe, topic: "test/nosubscribe"}')" || return 1
	fi
	pid=$EK_PID
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	ek_stop "$pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$mode" = kuiperd ] && [ ! -x "$kuiperd" ]; then
	echo "no kuiperd at $kuiperd (build it, or pass --kuiperd PATH or --mosquitto)" >&2
	exit 2
fi
start_broker || exit 2
echo "broker: $mode on 127.0.0.1:$port; suite: $suite; logs: $work"

status=0
summary=()
# run_file MODULE LABEL: runs every test of one suite file and appends its counts to summary.
run_file() {
	local module=$1 label=$2 names name rc pass=0 fail=0 hang=0 crash=0 failed=()
	if [ ${#tests[@]} -gt 0 ]; then
		names=("${tests[@]}")
	else
		mapfile -t names < <(python3 "$here/paho_interop.py" "$suite" "$module" "$port")
	fi
	for name in "${names[@]}"; do
		local log="$work/$module.$name.log"
		timeout -k 5 "$per_test" python3 "$here/paho_interop.py" "$suite" "$module" "$port" "$name" \
			>"$log" 2>&1
		rc=$?
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			crash=$((crash + 1)); failed+=("$name(broker died)")
			printf '%-8s %-34s CRASH (broker exited; see %s)\n' "$label" "$name" "$work/broker"
			wait "$pid" 2>/dev/null
			start_broker || exit 2
		elif [ $rc -eq 0 ]; then
			pass=$((pass + 1))
			printf '%-8s %-34s ok\n' "$label" "$name"
		elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			hang=$((hang + 1)); failed+=("$name(timeout)")
			printf '%-8s %-34s TIMEOUT after %ss\n' "$label" "$name" "$per_test"
		else
			fail=$((fail + 1)); failed+=("$name")
			printf '%-8s %-34s FAIL (%s)\n' "$label" "$name" "$log"
		fi
	done
	[ $((fail + hang + crash)) -eq 0 ] || status=1
	summary+=("$label: $pass passed, $fail failed, $hang timed out, $crash crashed, of ${#names[@]}${failed:+; not passed: ${failed[*]}}")
}

[ "$only" = 5 ] || run_file client_test "3.1.1"
[ "$only" = 3 ] || run_file client_test5 "5.0"
echo
printf '%s\n' "${summary[@]}"
exit $status
