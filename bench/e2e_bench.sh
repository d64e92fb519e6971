#!/usr/bin/env bash
# End-to-end benchmark: devices publish JSON into kuiperd's bundled broker, rules filter and project
# it, their mqtt sinks publish back into the broker, and one subscriber counts what comes out
# (bench/mqtt_loadgen.c, scenario e2e). Beside it, the same publishers and subscriber through a
# Mosquitto alone (started here on another loopback port), so the engine's cost shows as a ratio
# (DESIGN.md: a ratio against a peer measured in the same run, never an absolute time).
#
# Cases, each on a fresh kuiperd (its default configuration, free 127.0.0.1 ports):
#   broker   no rules: the subscriber reads the devices' topics (kuiperd's broker alone)
#   1        1 rule:      SELECT device, temperature, ts FROM dev WHERE temperature > 20
#   300      300 rules on the one shared stream (each message makes 300 results)
#   10000    10,000 rules on the shared stream, rule i keeping device i only
#            (each message is evaluated by 10,000 rules and makes one result)
#   1q       the 1-rule case with "qos": 1 and QoS 1 publishers (64 in flight each): every PUBACK
#            waits until the rule's sink has published the result (held acknowledgements)
# For each: a throughput run (as fast as the window allows) and a latency run (paced at --rate
# messages per second, or at 10% of that case's throughput when lower), kuiperd's CPU (% of one
# core) and RSS, and the RSS per rule. Every run is bounded in time.
#
# Usage: bench/e2e_bench.sh [options]
#   --kuiperd PATH      default: $KUIPERD, else build/bin/kuiperd
#   --loadgen PATH      default: build/bench/mqtt_loadgen
#   --cases "LIST"      from: broker 1 300 10000 1q (default: all)
#   --duration S        measured seconds per run (default 5)
#   --rate N            latency runs: messages per second (default 2000)
#   --pubs N            publishing devices (default 4)
#   --out FILE          keep every RESULT line there (default: in the work directory)
set -u

# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

loadgen=$root/build/bench/mqtt_loadgen
cases="broker 1 300 10000 1q"
duration=5
rate=2000
pubs=4
pubqos=0 # the publishers' QoS of the case being run
out=
while [ $# -gt 0 ]; do
	case $1 in
	--kuiperd) kuiperd=$2; shift 2 ;;
	--loadgen) loadgen=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--pubs) pubs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,25p' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
for f in "$kuiperd" "$loadgen"; do
	[ -x "$f" ] || { echo "not found: $f (build it: cmake --build build --target kuiperd mqtt_loadgen)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/e2e-bench.XXXXXX)
out=${out:-$work/results.txt}
: >"$out"
bench_stop_pids_at_exit

echo "e2e bench: kuiperd rules vs mosquitto ($(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}')), $pubs devices," \
	"${duration}s per run; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work directory: $work"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# ruleset N QOS: the ruleset JSON of the stream and N rules (N = 10000: one device per rule).
ruleset() {
	python3 - "$1" "$MQTT_PORT" "$2" <<'EOF'
import json, sys
n, port, qos = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
streams = {"dev": 'CREATE STREAM dev () WITH (DATASOURCE="e2e/in/+", FORMAT="json")'}
rules = {}
for i in range(n):
    where = 'device = "d%04d"' % i if n >= 1000 else "temperature > 20"
    rules["r%d" % i] = json.dumps({
        "id": "r%d" % i,
        "sql": "SELECT device, temperature, ts FROM dev WHERE %s" % where,
        "actions": [{"mqtt": {"server": "tcp://127.0.0.1:%d" % port, "topic": "e2e/out/r%d" % i, "sendSingle": True}}],
        "options": {"qos": qos}})
print(json.dumps({"content": json.dumps({"streams": streams, "rules": rules})}))
EOF
}

# run LABEL CASE KIND PORT PID FANOUT FILTER [RATE]: one load generator run, its RESULT line kept.
run() {
	local label=$1 cs=$2 kind=$3 port=$4 pid=$5 fanout=$6 filter=$7 r=${8:-} line extra=()
	[ -n "$r" ] && extra=(--rate "$r")
	line=$(timeout -k 5 $((${duration%.*} + 60)) "$loadgen" --port "$port" --broker-pid "$pid" --scenario e2e \
		--pubs "$pubs" --subs 1 --duration "$duration" --in-topic e2e/in --out-filter "$filter" \
		--fanout "$fanout" --qos "$pubqos" "${extra[@]}" 2>>"$work/loadgen.err" | grep '^RESULT')
	[ -n "$line" ] || line="RESULT scenario=e2e failed=1"
	line="$label case=$cs kind=$kind fanout=$fanout rss_kb=$(rss_kb "$pid") $line"
	echo "$line" >>"$out"
	echo "$line" | awk '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END { printf "  %-9s %-6s %-10s %9.0f msg/s in %10s deliveries/s  p50 %8s us  p99 %9s us  CPU %5s%%  RSS %s kB\n",
			$1, v["case"], v["kind"], v["rate"] / v["fanout"], v["rate"], v["p50_us"],
			v["p99_us"], v["broker_cpu_pct"], v["rss_kb"] }'
}

# drain: waits (at most 120 s) until rule r0 has worked off what the throughput run queued, so the
# latency run measures the path and not that backlog: its records_in stops moving for a second.
drain() {
	local last=-1 cur i
	for ((i = 0; i < 120; i++)); do
		cur=$(curl -sf "http://127.0.0.1:$REST_PORT/rules/r0/status" | grep -o '"source_dev_0_records_in_total":[0-9]*' | cut -d: -f2)
		[ -n "$cur" ] && [ "$cur" = "$last" ] && return 0
		last=$cur
		sleep 1
	done
}

# latency_rate: the paced rate for a case whose throughput run delivered $1 messages in/s.
latency_rate() {
	awk -v t="$1" -v r="$rate" 'BEGIN { x = t / 10; if (x > r) x = r; if (x < 10) x = 10; printf "%d", x }'
}

# The messages in per second that the last run got through (its results divided by the fanout).
last_in_rate() { tail -1 "$out" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } } END { printf "%d", v["rate"] / v["fanout"] }'; }

# Mosquitto alone: the devices' messages straight to the subscriber.
mdir=$work/mosquitto
mport=$(ek_free_port)
ek_start_mosquitto "$mdir" "$mport" || exit 2
pids=("$EK_PID")
run mosquitto broker throughput "$mport" "$EK_PID" 1 "e2e/in/#"
run mosquitto broker latency "$mport" "$EK_PID" 1 "e2e/in/#" "$(latency_rate "$(last_in_rate)")"
ek_stop "$EK_PID"
pids=()

for cs in $cases; do
	n=${cs%q}
	pubqos=0
	[ "$n" != "$cs" ] && pubqos=1
	dir=$work/kuiperd.$cs
	ek_start_kuiperd_full "$kuiperd" "$root/etc" "$dir" || { echo "kuiperd did not start; see $dir/kuiperd.out" >&2; exit 2; }
	pid=$EK_PID
	pids=("$pid")
	sleep 1
	idle=$(rss_kb "$pid")
	if [ "$cs" = broker ]; then
		run kuiperd "$cs" throughput "$MQTT_PORT" "$pid" 1 "e2e/in/#"
		run kuiperd "$cs" latency "$MQTT_PORT" "$pid" 1 "e2e/in/#" "$(latency_rate "$(last_in_rate)")"
	else
		t0=$(date +%s.%N)
		ruleset "$n" "$pubqos" >"$dir/ruleset.json"
		curl -sf -X POST "http://127.0.0.1:$REST_PORT/ruleset/import" -H 'Content-Type: application/json' \
			--data-binary @"$dir/ruleset.json" >"$dir/import.out" || { echo "import failed: $(cat "$dir/import.out")" >&2; exit 2; }
		# Every rule running: the status list answers once all are started.
		for ((i = 0; i < 600; i++)); do
			running=$(curl -sf "http://127.0.0.1:$REST_PORT/rules" | grep -o '"status":"running"' | wc -l)
			[ "$running" -ge "$n" ] && break
			sleep 0.5
		done
		t1=$(date +%s.%N)
		sleep 1
		loaded=$(rss_kb "$pid")
		per=$(awk -v a="$idle" -v b="$loaded" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
		echo "  kuiperd   $n rules running in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; RSS $idle -> $loaded kB ($per kB/rule)"
		echo "kuiperd case=$cs kind=rules rules=$n idle_rss_kb=$idle rules_rss_kb=$loaded kb_per_rule=$per" >>"$out"
		fanout=$n
		[ "$n" -ge 1000 ] && fanout=1
		run kuiperd "$cs" throughput "$MQTT_PORT" "$pid" "$fanout" "e2e/out/#"
		drain
		run kuiperd "$cs" latency "$MQTT_PORT" "$pid" "$fanout" "e2e/out/#" "$(latency_rate "$(last_in_rate)")"
	fi
	ek_stop "$pid"
	pids=()
done

echo
awk '
	{ delete v; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	v["kind"] == "throughput" && v["fanout"] > 0 { rate[$1, v["case"]] = v["rate"] / v["fanout"] }
	END {
		base = rate["mosquitto", "broker"]
		printf "%-28s %12s %14s\n", "case", "msg/s in", "vs mosquitto"
		printf "%-28s %12.0f %14s\n", "mosquitto alone", base, "1.00"
		split("broker 1 300 10000 1q", order, " ")
		for (k = 1; k <= 5; k++) {
			c = order[k]
			if (!(("kuiperd", c) in rate)) continue
			name = c == "broker" ? "kuiperd broker alone" : c == "1q" ? "kuiperd, 1 rule, QoS 1 held" : "kuiperd, " c " rule(s)"
			ratio = "-"
			if (base > 0) ratio = sprintf("%.2f", rate["kuiperd", c] / base)
			printf "%-28s %12.0f %14s\n", name, rate["kuiperd", c], ratio
		}
	}' "$out"
echo "every RESULT line: $out"
