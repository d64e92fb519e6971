# shellcheck shell=bash
# What the benchmark scripts (broker_bench.sh, e2e_bench.sh, idle_rss.sh) start with, sourced by
# each so they find the tree and stop what they started the same way: sets root (the source tree),
# sources tests/conformance/brokers.sh (ek_start_*, ek_stop), sets kuiperd to $KUIPERD or
# build/bin/kuiperd, and keeps the pids array of brokers to stop when the script ends.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/conformance/brokers.sh
. "$root/tests/conformance/brokers.sh"
kuiperd=${KUIPERD:-$root/build/bin/kuiperd}

# The brokers running now; the script sets and empties it as it starts and stops them.
pids=()

# Stops every broker in pids (ek_stop: asks, then kills after 5 s).
bench_stop_pids() {
	local p
	for p in "${pids[@]}"; do ek_stop "$p"; done
}

# From here on, exiting (normally or on Ctrl-C / TERM) stops every broker in pids.
bench_stop_pids_at_exit() {
	trap bench_stop_pids EXIT
	trap 'exit 130' INT TERM
}
