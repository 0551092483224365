#!/usr/bin/env bash
# End-to-end measurements for BENCHMARKS.md: parse-only ceiling and flatten, 1 and 2 threads,
# wall time, CPU time and peak RSS, on a generated archive (deterministic from the seed); then
# the encoding ceiling: the written dataset's row groups encoded again, timed alone.
#
#   benches/e2e.sh [SIZE_MB] [ARCHIVE_DIR] [SEED]
#
# Builds the release binary without the report feature (see prepare.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/prepare.sh
prepare "${1:-1150}" "${2:-/tmp/callrec-bench-archive-${1:-1150}}" "${3:-7}"
echo "archive: $archive ($(du -sm --apparent-size "$archive" | cut -f1) MB on disk, $(find "$archive" -type f | wc -l) files)"
cat "$archive"/*/* > /dev/null 2>&1 || true   # warm the page cache
run() {
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %U s user, %S s sys, %M KB peak RSS" "$@"
}
for j in 1 2; do
  run "parse-only -j$j" "$bin" parse-only "$archive" -j "$j"
done
for j in 1 2; do
  rm -rf "$out/ds"
  run "flatten -j$j" "$bin" flatten "$archive" --out "$out/ds" -j "$j" -q
done
rm -rf "$out/ds"
"$bin" flatten "$archive" --out "$out/ds" -j 2
du -sm "$out/ds"
for j in 1 2; do
  "$bin" encode-only "$out/ds" -j "$j"
done
