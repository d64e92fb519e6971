#!/usr/bin/env bash
# `make bench`: every benchmark of bench/ in one go, each bounded in time (about 10 minutes in all
# on a 2-core machine), printing what bench/RESULTS.md records. BUILD is the build directory the
# Makefile built (default: build).
#
# Usage: bench/run-all.sh [BUILD]
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
cmake --build "$build" --target kuiperd mqtt_loadgen bench_expr bench_rules -j2 >/dev/null || exit 2
export KUIPERD=$build/bin/kuiperd
status=0
step() {
	echo
	echo "== $*"
	timeout -k 10 900 "$@" || status=1
}
step "$build/bench/bench_expr"
step "$build/bench/bench_rules" 200000 10000
step "$here/idle_rss.sh"
step "$here/broker_bench.sh" --kuiperd "$KUIPERD" --loadgen "$build/bench/mqtt_loadgen" --runs 1
step "$here/e2e_bench.sh" --kuiperd "$KUIPERD" --loadgen "$build/bench/mqtt_loadgen"
exit $status
