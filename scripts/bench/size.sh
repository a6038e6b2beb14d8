#!/usr/bin/env bash
# The size keel-update adds to an app: examples/ledger built with the dist profile (thin LTO,
# one codegen unit, stripped) with and without its `self-update` feature.
#   scripts/bench/size.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-$PWD/target/bench-size}
build() {
  cargo build -q --profile dist --locked --manifest-path examples/ledger/Cargo.toml \
    --target-dir "$target/$1" "${@:2}"
  stat -c %s "$target/$1/dist/ledger"
}
without=$(build without --no-default-features)
with=$(build with)
awk -v a="$without" -v b="$with" 'BEGIN {
  printf "ledger without self-update: %.2f MiB\nledger with self-update:    %.2f MiB\n", a / 1048576, b / 1048576
  printf "keel-update adds %.2f MiB (x%.2f)\n", (b - a) / 1048576, b / a
}'
