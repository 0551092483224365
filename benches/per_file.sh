#!/usr/bin/env bash
# What each input file costs in memory, apart from everything else: `flatten` over two archives
# of one tiny call record per file (the layout of an export that writes a file per record),
# 20,000 and 200,000 files over 28 day folders. Prints the peak RSS of each and the bytes per
# extra file (the difference over 180,000 files), for a full run and for an incremental run that
# adds one file to the dataset just written (it holds the previous state's list of files).
#
#   benches/per_file.sh [ARCHIVE_ROOT]
#
# Builds the release binary without the report feature (see prepare.sh). The archives are
# written once (awk, a few seconds) under ARCHIVE_ROOT (default /tmp/callrec-bench-per-file).
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/tmp/callrec-bench-per-file}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --release --no-default-features -q
bin=target/release/callrec

# N files of one record each under $root/tiny-N/2026-10-DD/, ids and content fixed by N.
tiny() {
  local n=$1 dir=$root/tiny-$1
  [ -d "$dir" ] && return
  for d in $(seq -w 1 28); do mkdir -p "$dir/2026-10-$d"; done
  awk -v n="$n" -v dir="$dir" 'BEGIN {
    for (i = 0; i < n; i++) {
      day = sprintf("%02d", 1 + i % 28)
      id = sprintf("%08x-0000-4000-8000-%012x", i, i * 7919)
      f = dir "/2026-10-" day "/" id ".json"
      printf "{\"id\":\"%s\",\"version\":1,\"type\":\"peerToPeer\",\"modalities\":[\"audio\"],", id > f
      printf "\"startDateTime\":\"2026-10-%sT10:00:00Z\",\"endDateTime\":\"2026-10-%sT10:05:00Z\",", day, day > f
      printf "\"lastModifiedDateTime\":\"2026-10-%sT11:00:00Z\"}\n", day > f
      close(f)
    }
  }'
}

declare -A peak inc
mkdir -p "$out/new"
for n in 20000 200000; do
  tiny "$n"
  find "$root/tiny-$n" -type f -exec cat {} + > /dev/null   # warm the page cache
  rm -rf "$out/ds"
  /usr/bin/time -f "%M" -o "$out/rss" "$bin" flatten "$root/tiny-$n" --out "$out/ds" -q -j 2
  peak[$n]=$(cat "$out/rss")
  # The next night: one new record beside the unchanged archive.
  sed 's/"id":"0/"id":"f/' "$(find "$root/tiny-$n" -name '*.json' | head -1)" > "$out/new/$n.json"
  /usr/bin/time -f "%M" -o "$out/rss" "$bin" flatten "$root/tiny-$n" "$out/new/$n.json" \
    --out "$out/ds" -q -j 2
  inc[$n]=$(cat "$out/rss")
  echo "$n files: peak RSS ${peak[$n]} KB; adding one file to their dataset: ${inc[$n]} KB"
done
echo "per extra file: $(( (peak[200000] - peak[20000]) * 1024 / 180000 )) bytes" \
  "(incremental: $(( (inc[200000] - inc[20000]) * 1024 / 180000 )) bytes)"
