#!/usr/bin/env bash
# The report step over a flattened dataset: wall time, CPU time and peak RSS of `callrec report`
# from an empty report cache (a first report) and from a full one (a report after a run that
# changed nothing), with the flatten run beside it for the ratio.
#
#   benches/report.sh [SIZE_MB] [ARCHIVE_DIR] [SEED]
#
# Builds the release binary without the report feature to generate and flatten (see
# prepare.sh), then with it (polars: ~14 min from clean) to report.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/prepare.sh
prepare "${1:-1150}" "${2:-/tmp/callrec-bench-archive-${1:-1150}}" "${3:-7}"
cat "$archive"/*/* > /dev/null 2>&1 || true   # warm the page cache
/usr/bin/time -f "flatten -j2 --no-report: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$bin" flatten "$archive" --out "$out/ds" -j 2 -q
cargo build --release -q
report() {
  /usr/bin/time -f "report ($1): %e s wall, %U s user, %S s sys, %M KB peak RSS" \
    target/release/callrec report "$out/ds" --out "$out/reports" 2>&1 | grep -v '^callrec: report'
}
for round in 1 2; do
  rm -rf "$out/ds/.callrec-report-cache"
  report "empty cache, round $round"
done
for round in 1 2; do
  report "full cache, round $round"
done
