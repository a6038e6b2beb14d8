#!/usr/bin/env bash
# Runs keel's fuzz targets: coverage-guided (libFuzzer), built with coverage instrumentation
# and no sanitizer, so the stable toolchain builds them.
#   scripts/fuzz.sh TARGET SECONDS   one target (archive, patch, tuf, manifest, journal, oci, changelog,
#                                    github) for SECONDS
#   scripts/fuzz.sh all SECONDS      every target, SECONDS each
# Each run starts from the committed seeds (fuzz/corpus/TARGET) and what earlier runs found
# (target/fuzz-corpus/TARGET). A failure stops the run, names the input that caused it (under
# target/fuzz-artifacts/TARGET) and exits 1: fix it, and keep the input as a seed of the
# target, where every later run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(archive patch tuf manifest journal oci changelog github)
if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS (targets: ${targets[*]})" >&2
  exit 2
fi
if [ "$1" = all ]; then
  chosen=("${targets[@]}")
elif [[ " ${targets[*]} " == *" $1 "* ]]; then
  chosen=("$1")
else
  echo "error: no fuzz target \`$1\` (targets: ${targets[*]})" >&2
  exit 1
fi
seconds=$2

# What cargo-fuzz passes, without -Zsanitizer: libFuzzer's coverage counters and comparisons.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# With --target, the flags reach the fuzzed code only, not build scripts and proc macros.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --locked --quiet --manifest-path fuzz/Cargo.toml --target-dir target/fuzz \
  --target "$host" --bins
bin="target/fuzz/$host/release"

printf '%-10s %12s %8s %8s %8s\n' target runs exec/s cov corpus
for target in "${chosen[@]}"; do
  corpus="target/fuzz-corpus/$target"
  artifacts="target/fuzz-artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  log="target/fuzz-artifacts/$target.log"
  if ! "$bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "error: the fuzz target $target failed; the input is in $artifacts (log: $log)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(sed -n "s/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\).*/\1/p" "$log" | tail -n 1)
  files=$(find "$corpus" -type f | wc -l)
  printf '%-10s %12s %8s %8s %8s\n' "$target" "$runs" "$speed" "${cov:-?}" "$files"
done
