#!/usr/bin/env bash
# The long form of the fault tests (tests/integration/test_fault_*.py): each runs as a soak of
# EK_SOAK_SECONDS instead of its short `make test` form, and prints its summary line (published,
# lost, duplicated, memory and file descriptors). Bounded: each test gets its duration plus 120 s.
# See docs/reliability.md for what each one does and must hold.
#
# Usage: bench/fault_soak.sh [--seconds S] [--kuiperd PATH] [TEST ...]
#   --seconds S    soak length of each test (default 600)
#   TEST           clients sink_outage kill9 bad_input (default: the first three)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
seconds=600
tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--kuiperd) export KUIPERD=$2; shift 2 ;;
	-h | --help) sed -n '2,10p' "$0"; exit 0 ;;
	*) tests+=("$1"); shift ;;
	esac
done
[ ${#tests[@]} -gt 0 ] || tests=(clients sink_outage kill9)
export KUIPERD=${KUIPERD:-$root/build/bin/kuiperd}
fail=0
for t in "${tests[@]}"; do
	echo "== test_fault_$t.py, ${seconds}s (kuiperd: $KUIPERD)"
	if ! (cd "$root/tests/integration" &&
		EK_SOAK_SECONDS=$seconds timeout -k 10 $((seconds + 120)) /usr/bin/python3 "test_fault_$t.py" 2>&1 |
		grep -E '^(client churn|sink outage|kill -9):|^(OK|FAILED)|Error'); then
		fail=1
	fi
done
exit $fail
