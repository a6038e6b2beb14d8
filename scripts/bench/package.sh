#!/usr/bin/env bash
# Packaging + hashing benchmark: keel against `tar czf` + `sha256sum` on the same files, in the
# same run, reported as a ratio (lower is faster for keel).
#
#   scripts/bench/package.sh [MiB]     (default: 64 MiB of real executables)
#
# The payload is real machine code (the largest executables under /usr/bin and /usr/lib, in
# name order, up to the size asked), shipped with `include` in a workspace whose binary comes
# from keel's fake builder, so that the time measured is packaging, not compiling. keel's time
# also covers reading the workspace, writing the .sha256 files, SHA256SUMS and the manifest.
set -euo pipefail
cd "$(dirname "$0")/../.."
mib=${1:-64}
runs=${RUNS:-5}

cargo build --release -q -p keel
keel=$PWD/target/release/keel

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ws=$work/ws
mkdir -p "$ws/src" "$ws/payload"
cat >"$ws/Cargo.toml" <<'TOML'
[package]
name = "bench"
version = "1.0.0"
edition = "2021"

[package.metadata.keel]
include = ["payload"]
TOML
echo 'fn main() {}' >"$ws/src/main.rs"
echo "# bench" >"$ws/README.md"
(cd "$ws" && cargo generate-lockfile --offline -q)

budget=$((mib * 1024 * 1024))
total=0
while IFS= read -r file; do
  size=$(stat -c %s "$file")
  ((total + size > budget)) && continue
  cp "$file" "$ws/payload/$(basename "$file")-$total"
  total=$((total + size))
done < <(find /usr/bin /usr/lib -maxdepth 2 -type f -size +256k -perm -u+x 2>/dev/null | sort)
echo "payload: $(find "$ws/payload" -type f | wc -l) executables, $((total / 1024 / 1024)) MiB"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

keel_times=()
tar_times=()
for _ in $(seq "$runs"); do
  rm -rf "$work/out" "$work/tar"
  start=$(now)
  "$keel" release --quiet --builder fake --manifest-path "$ws/Cargo.toml" --out "$work/out"
  keel_times+=($(($(now) - start)))

  mkdir -p "$work/tar"
  start=$(now)
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$ws" -czf "$work/tar/bench.tar.gz" README.md payload target/x86_64-unknown-linux-gnu/dist/bench
  (cd "$work/tar" && sha256sum bench.tar.gz >bench.tar.gz.sha256)
  tar_times+=($(($(now) - start)))
done

keel_ms=$(($(printf '%s\n' "${keel_times[@]}" | median) / 1000000))
tar_ms=$(($(printf '%s\n' "${tar_times[@]}" | median) / 1000000))
keel_size=$(stat -c %s "$work"/out/*.tar.gz)
tar_size=$(stat -c %s "$work/tar/bench.tar.gz")
echo "keel release (archive, .sha256, SBOM, SHA256SUMS, provenance, manifest): median ${keel_ms} ms, archive ${keel_size} bytes"
echo "tar czf + sha256sum:                                                     median ${tar_ms} ms, archive ${tar_size} bytes"
awk -v k="$keel_ms" -v t="$tar_ms" -v ks="$keel_size" -v ts="$tar_size" \
  'BEGIN { printf "ratio keel/tar: time %.2f, size %.3f (%d runs each)\n", k / t, ks / ts, '"$runs"' }'
