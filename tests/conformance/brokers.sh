# shellcheck shell=bash
# Shell functions that start and stop the brokers the conformance and benchmark scripts test:
# kuiperd's bundled broker (`kuiperd --broker-only` with a temporary etc/) and a Mosquitto peer
# with a minimal configuration. Sourced by tests/conformance/run-paho-interop.sh and, through
# bench/bench_lib.sh, the benchmark scripts, so all start the brokers the same way. Everything
# listens on 127.0.0.1 only, on a free port picked by the kernel; every broker started here is
# stopped by its pid.

# Prints a free TCP port on 127.0.0.1 (the kernel picks it; a race with another process is possible
# but unlikely, and ek_wait_port below notices a broker that failed to bind).
ek_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ek_wait_port PORT PID: waits up to 10 s until something accepts on 127.0.0.1:PORT while PID lives.
ek_wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ek_wait_listen PORT PID: waits up to 10 s until some socket listens on TCP PORT while PID lives,
# without connecting to it (/proc/net/tcp, state 0A), so a kuiperd that starts its HTTP servers on
# the first connection is measured as nobody has called it (bench/idle_rss.sh).
ek_wait_listen() {
	local port=$1 pid=$2 i hex
	hex=$(printf ':%04X ' "$port")
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if awk -v p="$hex" '$4 == "0A" && index($2 " ", p) { f = 1 } END { exit !f }' \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ek_start_mosquitto DIR PORT [CONF]: starts Mosquitto with a minimal config written into DIR;
# sets EK_PID. No persistence, anonymous clients, queues large enough that a benchmark never drops
# a message; CONF, if given, holds more mosquitto.conf lines.
ek_start_mosquitto() {
	local dir=$1 port=$2 extra=${3:-} bin=${MOSQUITTO:-/usr/sbin/mosquitto}
	mkdir -p "$dir"
	cat >"$dir/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
max_queued_bytes 0
log_dest stderr
$extra
EOF
	"$bin" -c "$dir/mosquitto.conf" >>"$dir/mosquitto.out" 2>&1 &
	EK_PID=$!
	if ! ek_wait_port "$port" "$EK_PID"; then
		echo "mosquitto did not start on port $port; see $dir/mosquitto.out" >&2
		return 1
	fi
}

# ek_start_kuiperd KUIPERD DIR PORT [YAML]: starts `kuiperd --broker-only` with a temporary etc/,
# data/ and log/ under DIR and the broker on 127.0.0.1:PORT; sets EK_PID. The port is given both in
# etc/kuiper.yaml (broker.port) and as the KUIPER__BROKER__PORT environment override. YAML, if
# given, holds more keys of the broker: section, each line indented by two spaces.
ek_start_kuiperd() {
	local bin=$1 dir=$2 port=$3 extra=${4:-}
	mkdir -p "$dir/etc" "$dir/data" "$dir/log" "$dir/plugins"
	cat >"$dir/etc/kuiper.yaml" <<EOF
# Written by tests/conformance/brokers.sh: a broker-only kuiperd on a loopback port.
basic:
  consoleLog: true
  fileLog: false
broker:
  bind: 127.0.0.1
  port: $port
$extra
EOF
	KUIPER__BROKER__PORT=$port "$bin" --broker-only --etc "$dir/etc" --data "$dir/data" \
		--log "$dir/log" --plugins "$dir/plugins" >>"$dir/kuiperd.out" 2>&1 &
	EK_PID=$!
	if ! ek_wait_port "$port" "$EK_PID"; then
		echo "kuiperd did not start on port $port; see $dir/kuiperd.out" >&2
		return 1
	fi
}

# ek_start_kuiperd_full KUIPERD ETC DIR: a whole kuiperd (rules, REST, broker) with a copy of ETC
# (the project's default configuration) under DIR, every port a free one on 127.0.0.1 (set through
# KUIPER__* overrides); sets EK_PID, MQTT_PORT and REST_PORT. Used by bench/e2e_bench.sh and
# bench/idle_rss.sh.
ek_start_kuiperd_full() {
	local bin=$1 etc=$2 dir=$3
	mkdir -p "$dir/data" "$dir/log" "$dir/plugins"
	cp -r "$etc" "$dir/etc"
	local ports http_port dash_port
	# Four distinct free ports, held open together while the kernel picks them.
	ports=$(python3 -c 'import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
	read -r MQTT_PORT REST_PORT http_port dash_port <<<"$ports"
	KUIPER__BASIC__RESTPORT=$REST_PORT KUIPER__BASIC__RESTIP=127.0.0.1 KUIPER__BASIC__CONSOLELOG=true \
		KUIPER__BASIC__FILELOG=false KUIPER__BROKER__BIND=127.0.0.1 KUIPER__BROKER__PORT=$MQTT_PORT \
		KUIPER__SOURCE__HTTPSERVERIP=127.0.0.1 KUIPER__SOURCE__HTTPSERVERPORT=$http_port \
		KUIPER__DASHBOARD__IP=127.0.0.1 KUIPER__DASHBOARD__PORT=$dash_port \
		MQTT_SOURCE__DEFAULT__SERVER=tcp://127.0.0.1:$MQTT_PORT \
		"$bin" --etc "$dir/etc" --data "$dir/data" --log "$dir/log" --plugins "$dir/plugins" \
		>>"$dir/kuiperd.out" 2>&1 &
	EK_PID=$!
	ek_wait_listen "$MQTT_PORT" "$EK_PID" && ek_wait_listen "$REST_PORT" "$EK_PID"
}

# ek_stop PID: asks a broker started above to stop, then kills it if it is still there after 5 s.
ek_stop() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
