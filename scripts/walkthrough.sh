#!/usr/bin/env bash
# Runs the README's walkthrough with a keel binary, and checks its outputs with real tools:
#   scripts/walkthrough.sh [path/to/keel]     (default: builds and runs keel with cargo)
set -euo pipefail
cd "$(dirname "$0")/.."
keel=${1:-}
if [ -z "$keel" ]; then
  cargo build --release -p keel
  keel=target/release/keel
fi

example=examples/ledger
dist=$example/target/keel/dist
"$keel" plan --manifest-path $example/Cargo.toml
"$keel" release --manifest-path $example/Cargo.toml

host=$(rustc -vV | sed -n 's/^host: //p')
version=$(sed -n 's/^version = "\(.*\)"/\1/p' $example/Cargo.toml | head -n 1)
archive=ledger-$version-$host.tar.gz
(cd $dist && sha256sum -c SHA256SUMS && sha256sum -c "$archive.sha256")

unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
tar -xzf "$dist/$archive" -C "$unpacked"
"$unpacked/ledger-$version-$host/demo/demo.sh"

# A second release of the same commit is byte-identical.
before=$(cd $dist && sha256sum ./*)
"$keel" release --quiet --manifest-path $example/Cargo.toml
after=$(cd $dist && sha256sum ./*)
[ "$before" = "$after" ] || { echo "walkthrough: the second release differs" >&2; exit 1; }
echo "walkthrough: ok"
