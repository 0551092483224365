# Sourced by the bench scripts. `prepare SIZE_MB ARCHIVE_DIR SEED` builds the release binary
# without the report feature (no polars: ~3 min instead of ~14), generates the archive when the
# folder does not exist (deterministic from the seed), and sets $bin, $archive and $out (a
# temporary folder removed on exit).
prepare() {
  local size_mb=$1 seed=$3
  archive=$2
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  cargo build --release --no-default-features -q
  bin=target/release/callrec
  if [ ! -d "$archive" ]; then
    "$bin" gen --out "$archive" --size-mb "$size_mb" --seed "$seed"
  fi
}
