#!/usr/bin/env bash
# Idle memory of kuiperd: starts it with the default configuration (etc/, no rules, free loopback
# ports), waits, and prints its resident memory from /proc/PID/smaps_rollup (Rss, Pss, anonymous,
# private) and Rss per group of mappings (each shared library, the heap and thread stacks), so what
# drives the figure shows. See bench/RESULTS.md, "Idle memory". Bounded: about 10 s.
#
# kuiperd is started and waited for without connecting to its REST port (its HTTP server and the
# libraries it needs load on the first connection: docs/configuration.md). --then rest makes one
# REST call first, --then rule also runs a rule (MQTT in, filter, MQTT out) over one message, so the
# cost of what loads on first use shows; --peer also prints an idle Mosquitto's Rss (same machine,
# same moment) for the ratio.
#
# Usage: bench/idle_rss.sh [--kuiperd PATH] [--wait S] [--then rest|rule] [--peer]
#        (defaults: $KUIPERD or build/bin/kuiperd, 3 s, nothing, no peer)
set -u
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
wait_s=3 then="" peer=0
while [ $# -gt 0 ]; do
	case $1 in
	--kuiperd) kuiperd=$2; shift 2 ;;
	--wait) wait_s=$2; shift 2 ;;
	--then) then=$2; shift 2 ;;
	--peer) peer=1; shift ;;
	*) sed -n '2,13p' "$0"; exit 2 ;;
	esac
done
work=$(mktemp -d /tmp/idle-rss.XXXXXX)
ek_start_kuiperd_full "$kuiperd" "$root/etc" "$work/k" || { echo "kuiperd did not start; see $work" >&2; exit 2; }
pid=$EK_PID
trap 'ek_stop "$pid"; rm -rf "$work"' EXIT
rest() { curl -sf -m 10 -X "$1" "http://127.0.0.1:$REST_PORT$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
state="idle, default configuration, no rules"
case $then in
"") ;;
rest | rule)
	rest GET /ping >/dev/null || { echo "REST call failed" >&2; exit 2; }
	state="after one REST call, no rules"
	if [ "$then" = rule ]; then
		rest POST /streams '{"sql":"CREATE STREAM idle (t float) WITH (DATASOURCE=\"idle/in\", FORMAT=\"JSON\")"}' >/dev/null &&
			rest POST /rules '{"id":"idle","sql":"SELECT t FROM idle WHERE t > 20","actions":[{"mqtt":{"server":"tcp://127.0.0.1:'"$MQTT_PORT"'","topic":"idle/out"}}]}' >/dev/null ||
			{ echo "cannot create the rule" >&2; exit 2; }
		sleep 1
		mosquitto_pub -p "$MQTT_PORT" -t idle/in -m '{"t":25}' -q 1
		state="after one REST call and one running rule (MQTT in, filter, MQTT out) fed one message"
	fi ;;
*) echo "--then: rest or rule" >&2; exit 2 ;;
esac
sleep "$wait_s"
echo "kuiperd $pid $state; $(ls /proc/$pid/task | wc -l) threads"
python3 - "$pid" <<'PY'
import collections, os, re, sys
pid = int(sys.argv[1])
roll = {l.split(':')[0]: int(l.split()[1]) for l in open('/proc/%d/smaps_rollup' % pid) if 'kB' in l}
print("Rss %d kB = anonymous %d + file-backed %d; Pss %d kB; private (USS) %d kB"
      % (roll['Rss'], roll['Anonymous'], roll['Rss'] - roll['Anonymous'], roll['Pss'],
         roll['Private_Clean'] + roll['Private_Dirty']))
rss, cur = collections.Counter(), None
for line in open('/proc/%d/smaps' % pid):
    f = line.split()
    if not f[0].endswith(':') and '-' in f[0]:
        cur = os.path.basename(f[5]) if len(f) > 5 else '[anon]'
    elif f[0] == 'Rss:':
        rss[cur] += int(f[1])
groups = [
    ('libcurl and what only it loads (krb5, ldap, ssh2, rtmp, nghttp2 ...)',
     r'libcurl|krb5|k5crypto|com_err|gssapi|ldap|lber|sasl2|ssh2|rtmp|nghttp2|psl|brotli|keyutils|resolv'),
    ('GnuTLS and its dependencies (libmicrohttpd, libcurl)', r'gnutls|nettle|hogweed|gmp|p11-kit|tasn1|unistring|idn2|ffi'),
    ('OpenSSL (libssl, libcrypto)', r'libssl|libcrypto'), ('SQLite', r'sqlite'),
    ('libc, libm, ld.so', r'libc\.so|libm\.so|ld-linux|vdso'), ('kuiperd itself', r'^kuiperd$'),
    ('Paho MQTT C, libmicrohttpd, zlib, zstd, PCRE2, libyaml, cJSON', r'paho|microhttpd|libz|zstd|pcre2|yaml|cjson'),
    ('heap, thread stacks, malloc arenas', r'^\['),
]
seen = set()
print("| mappings | Rss kB |\n| --- | ---: |")
for name, rx in groups:
    names = {n for n in rss if re.search(rx, n) and n not in seen}
    seen |= names
    print("| %s | %d |" % (name, sum(rss[n] for n in names)))
print("| other (%s) | %d |" % (", ".join(sorted(n for n in rss if n not in seen)) or "-",
                               sum(v for n, v in rss.items() if n not in seen)))
PY
if [ "$peer" = 1 ]; then
	mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	ek_start_mosquitto "$work/mosquitto" "$mport" || { echo "mosquitto did not start" >&2; exit 2; }
	mpid=$EK_PID
	sleep "$wait_s"
	echo "Mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') idle, same machine: Rss $(awk '/^Rss/ {print $2}' /proc/$mpid/smaps_rollup) kB"
	ek_stop "$mpid"
fi
