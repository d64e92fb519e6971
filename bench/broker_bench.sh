#!/usr/bin/env bash
# Broker benchmark: kuiperd's bundled broker against Mosquitto, side by side in one run, driven by
# the same clients (bench/mqtt_loadgen.c), with a ratio per scenario. DESIGN.md: performance is a
# ratio against a peer measured on the same machine, never an absolute time. For every run and
# scenario both brokers are started fresh on free 127.0.0.1 ports (so the idle-connection memory
# figure starts from a clean heap), the load generator runs against each in turn (the order
# alternates between runs), and both are stopped. The table shows medians over the runs.
#
# Usage: bench/broker_bench.sh [options]
#   --kuiperd PATH       kuiperd to test (default: $KUIPERD, else build/bin/kuiperd)
#   --mosquitto-twice    no kuiperd: run two Mosquitto instances (checks the bench itself)
#   --loadgen PATH       mqtt_loadgen (default: build-bench/bench/, else build/bench/)
#   --runs N             runs of every scenario (default 3)
#   --duration S         measured seconds per scenario and broker (default 5)
#   --scenarios "LIST"   from: fanin fanout qos1 latency idle (default: all)
#   --mqtt 3|5           protocol of every client (default 3, i.e. MQTT 3.1.1)
#   --rate N             latency scenario: messages per second (default 10000)
#   --conns N            idle scenario: connections (default 5000)
#   --out FILE           also keep every RESULT line there (default: a file in the work directory)
#   --table FILE         print the table of a results file kept with --out, and run nothing
set -u

# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

loadgen=
twice=0
runs=3
duration=5
scenarios="fanin fanout qos1 latency idle"
mqtt=3
rate=10000
conns=5000
out=
table=
while [ $# -gt 0 ]; do
	case $1 in
	--kuiperd) kuiperd=$2; shift 2 ;;
	--mosquitto-twice) twice=1; shift ;;
	--loadgen) loadgen=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--scenarios) scenarios=$2; shift 2 ;;
	--mqtt) mqtt=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--table) table=$2; shift 2 ;;
	-h | --help) sed -n '2,23p' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

# print_table LABEL FILE: the table of medians over the runs in FILE (RESULT lines prefixed by the
# broker's label). Ratio = LABEL / mosquitto; above 1 is better for rates, below 1 is better for
# latency, memory and CPU per message.
print_table() {
	echo
	awk -v a="$1" -v scenarios="$scenarios" '
function median(list,   n, arr, i, j, t) {
	n = split(list, arr, " ")
	if (n == 0) return ""
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (arr[j] + 0 < arr[i] + 0) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
function add(who, key, val) { if (val != "" && val >= 0) vals[who, key] = vals[who, key] " " val }
{
	delete v
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["failed"] != "" || v["broker_died"] != "" || v["errors"] > 0) { bad[$1, v["scenario"]]++; next }
	sc = v["scenario"]
	if (sc == "latency") { add($1, sc ":p50", v["p50_us"]); add($1, sc ":p99", v["p99_us"]) }
	else if (sc == "idle") add($1, sc ":mem", v["bytes_per_conn"])
	else add($1, sc ":rate", v["rate"])
	if (sc != "idle") { add($1, sc ":cpu", v["broker_us_per_msg"]); add($1, sc ":lg", v["lg_cpu_pct"]) }
}
END {
	split("fanin:rate:msg/s;fanout:rate:deliveries/s;qos1:rate:msg/s;" \
	      "latency:p50:p50 us;latency:p99:p99 us;idle:mem:bytes/conn", rows, ";")
	printf "%-9s %-14s %12s %12s %7s %16s %16s %12s\n", "scenario", "figure", a, "mosquitto", "ratio", \
		a " us/msg", "mosquitto us/msg", "loadgen CPU"
	for (k = 1; k <= 6; k++) {
		split(rows[k], f, ":"); sc = f[1]; key = sc ":" f[2]
		if (index(" " scenarios " ", " " sc " ") == 0) continue
		x = median(vals[a, key]); y = median(vals["mosquitto", key])
		ratio = (x != "" && y != "" && y > 0) ? sprintf("%.2f", x / y) : "-"
		cx = median(vals[a, sc ":cpu"]); cy = median(vals["mosquitto", sc ":cpu"])
		lx = median(vals[a, sc ":lg"]); ly = median(vals["mosquitto", sc ":lg"])
		fmt = (f[2] == "p50" || f[2] == "p99") ? "%.1f" : "%.0f"
		printf "%-9s %-14s %12s %12s %7s %16s %16s %12s\n", sc, f[3], (x == "" ? "-" : sprintf(fmt, x)), \
			(y == "" ? "-" : sprintf(fmt, y)), ratio, \
			(cx == "" || f[2] == "p50" ? "" : sprintf("%.2f", cx)), (cy == "" || f[2] == "p50" ? "" : sprintf("%.2f", cy)), \
			(lx == "" || f[2] == "p50" ? "" : sprintf("%.0f%%/%.0f%%", lx, ly))
	}
	for (k in bad) {
		split(k, p, SUBSEP)
		printf "note: %s %s failed in %d run(s) (see the work directory)\n", p[1], p[2], bad[k]
	}
}' "$2"
}

if [ -n "$table" ]; then
	print_table "$(awk '$1 != "mosquitto" { print $1; exit }' "$table")" "$table"
	exit 0
fi
if [ -z "$loadgen" ]; then
	for f in "$root/build-bench/bench/mqtt_loadgen" "$root/build/bench/mqtt_loadgen"; do
		[ -x "$f" ] && loadgen=$f && break
	done
fi
if [ ! -x "$loadgen" ]; then
	echo "no mqtt_loadgen: build it (see bench/README.md) or pass --loadgen" >&2
	exit 2
fi
if [ $twice -eq 0 ] && [ ! -x "$kuiperd" ]; then
	echo "no kuiperd at $kuiperd: build it, pass --kuiperd, or use --mosquitto-twice" >&2
	exit 2
fi

work=$(mktemp -d /tmp/broker-bench.XXXXXX)
out=${out:-$work/results.txt}
: >"$out"
# The idle scenario needs a file descriptor per connection in each broker and in the generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
bench_stop_pids_at_exit

label_a=kuiperd
[ $twice -eq 1 ] && label_a=mosquitto-A
echo "broker bench: $label_a vs mosquitto ($(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}')), MQTT $mqtt," \
	"$runs run(s) x ${duration}s per scenario; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work directory: $work"

# start_a DIR PORT / start_b DIR PORT: the broker under test and the peer; set EK_PID.
start_a() {
	if [ $twice -eq 1 ]; then
		ek_start_mosquitto "$1" "$2"
	else
		# The same limits as the Mosquitto peer: no persistence, queues that never drop.
		ek_start_kuiperd "$kuiperd" "$1" "$2" "$(printf '  persist: false\n  maxQueuedMessages: 1000000')"
	fi
}
start_b() { ek_start_mosquitto "$1" "$2"; }

# measure LABEL PORT PID SCENARIO RUN: one load generator run; appends "LABEL RUN RESULT ..." to $out.
measure() {
	local label=$1 port=$2 pid=$3 sc=$4 run=$5 line
	line=$(timeout -k 5 $((${duration%.*} + 60)) "$loadgen" --port "$port" --broker-pid "$pid" --scenario "$sc" \
		--mqtt "$mqtt" --duration "$duration" --rate "$rate" --conns "$conns" 2>>"$work/loadgen.err" | grep '^RESULT')
	if [ -z "$line" ]; then
		line="RESULT scenario=$sc failed=1"
		echo "  $label $sc: the load generator failed (see $work/loadgen.err)" >&2
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "  $label $sc: the broker exited during the run (see $work)" >&2
		line="$line broker_died=1"
	fi
	echo "$label run=$run $line" >>"$out"
}

for ((r = 1; r <= runs; r++)); do
	for sc in $scenarios; do
		pa=$(ek_free_port)
		start_a "$work/a.$r.$sc" "$pa" || exit 2
		pida=$EK_PID; pids=("$pida")
		pb=$(ek_free_port)
		start_b "$work/b.$r.$sc" "$pb" || exit 2
		pidb=$EK_PID; pids+=("$pidb")
		sleep 0.3
		if [ $((r % 2)) -eq 1 ]; then
			measure "$label_a" "$pa" "$pida" "$sc" "$r"
			measure mosquitto "$pb" "$pidb" "$sc" "$r"
		else
			measure mosquitto "$pb" "$pidb" "$sc" "$r"
			measure "$label_a" "$pa" "$pida" "$sc" "$r"
		fi
		ek_stop "$pida"
		ek_stop "$pidb"
		pids=()
		printf '  run %d %-8s %s\n' "$r" "$sc" "$(grep " run=$r RESULT scenario=$sc " "$out" | awk '
			{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			  f = v["rate"]; if (v["scenario"] == "latency") f = "p99 " v["p99_us"] "us";
			  if (v["scenario"] == "idle") f = v["bytes_per_conn"] " B/conn";
			  if (v["failed"] != "") f = "FAILED";
			  printf "%s %s  ", $1, f; delete v }')"
	done
done

print_table "$label_a" "$out"
echo
echo "ratio = $label_a / mosquitto (rates: above 1 is better; latency, bytes/conn: below 1 is better)."
echo "us/msg = broker CPU time (user+system, /proc/<pid>/stat) per delivered message;"
echo "loadgen CPU = the generator's own CPU time, % of one core ($label_a run/mosquitto run)."
echo "every RESULT line: $out"
