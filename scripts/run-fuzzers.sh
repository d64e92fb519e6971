#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, from its committed seed corpus
# (tests/fuzz/corpus/<name>/) into a scratch copy, so `make fuzz` never modifies the repository.
# Exits non-zero if any target finds a crash (its reproducer is left in tests/fuzz/corpus-out/).
set -euo pipefail
build=$(cd "${1:-build-fuzz}" && pwd)
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/tests/fuzz/corpus-out"
mkdir -p "$out"
status=0
for bin in "$build"/tests/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus_name=${name#fuzz_}
  seeds="$root/tests/fuzz/corpus/$corpus_name"
  work="$out/$corpus_name"
  mkdir -p "$work"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  echo "== $name for ${secs}s"
  if ! (cd "$out" && "$bin" -max_total_time="$secs" -print_final_stats=1 "$work" 2>&1 | tail -n 12); then
    echo "!! $name found a problem (see $out)"
    status=1
  fi
done
exit $status
