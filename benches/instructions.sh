#!/usr/bin/env bash
# Instruction counts of `callrec flatten` and `callrec parse-only` on one thread, under
# valgrind's cachegrind: unlike wall or CPU time they do not move with other work on a shared
# machine, so a change's effect shows even when timings are noisy (see BENCHMARKS.md).
#
#   benches/instructions.sh [SIZE_MB] [ARCHIVE_DIR] [SEED]      (needs valgrind)
#
# Builds the release binary without the report feature (see prepare.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/prepare.sh
prepare "${1:-100}" "${2:-/tmp/callrec-bench-archive-${1:-100}-seed${3:-3}}" "${3:-3}"
count() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    awk '/I +refs/ {print $NF}'
}
echo "parse-only -j1: $(count "$bin" parse-only "$archive" -j 1) instructions"
echo "flatten -j1:    $(count "$bin" flatten "$archive" --out "$out/ds" -j 1 -q --no-report) instructions"
du -sk "$out/ds" | awk '{print "dataset: " $1 " KB"}'
