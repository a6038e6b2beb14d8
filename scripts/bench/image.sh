#!/usr/bin/env bash
# Image build benchmark: `keel image build` against `tar czf` of the same files, in the same
# run, as a ratio of the medians of RUNS runs (lower is faster for keel); and the image's size
# against the gzip-compressed files.
#
#   scripts/bench/image.sh [MiB]     (default: 50 MiB of real executables beside the binary)
#
# Two releases of a static `hello`: alone (a small binary, like the example's), and with MiB
# of real machine code (the largest executables under /usr/bin and /usr/lib) shipped with
# `include` and put in the image with `files`. keel's time covers checking every file of the
# release against its manifest, the layer, the documents, the OCI archive, and writing the
# release's SHA256SUMS, provenance and manifest anew.
set -euo pipefail
cd "$(dirname "$0")/../.."
mib=${1:-50}
runs=${RUNS:-5}

cargo build --release -q -p keel
keel=$PWD/target/release/keel
host=$(rustc -vV | sed -n 's/^host: //p')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

setup() { # name payload-MiB
  local ws=$work/$1
  mkdir -p "$ws/src" "$ws/.cargo" "$ws/payload"
  cat >"$ws/Cargo.toml" <<TOML
[package]
name = "hello"
version = "1.0.0"
edition = "2021"

[package.metadata.keel]
include = ["payload"]

[package.metadata.keel.image]
files = { "payload/blob" = "/usr/share/hello/blob" }
TOML
  printf '[target.%s]\nrustflags = ["-C", "target-feature=+crt-static"]\n' "$host" >"$ws/.cargo/config.toml"
  echo 'fn main() { println!("hello"); }' >"$ws/src/main.rs"
  echo "# hello" >"$ws/README.md"
  local budget=$(($2 * 1024 * 1024)) total=0
  : >"$ws/payload/blob"
  if (($2 > 0)); then
    while IFS= read -r file; do
      size=$(stat -c %s "$file")
      ((total + size > budget)) && continue
      cat "$file" >>"$ws/payload/blob"
      total=$((total + size))
    done < <(find /usr/bin /usr/lib -type f -size +1M -perm -u+x 2>/dev/null | sort)
  fi
  (cd "$ws" && cargo generate-lockfile --offline -q && git init -q && git add -A &&
    git -c user.name=bench -c user.email=bench@localhost commit -qm bench &&
    "$keel" release -q --out "$work/$1-dist")
}

bench() { # name
  local dist=$work/$1-dist keel_times=() tar_times=() t
  local files=("$work/$1/target/keel-bench-files")
  mkdir -p "${files[0]}"
  tar -xzf "$dist/hello-1.0.0-$host.tar.gz" -C "${files[0]}"
  for ((i = 0; i < runs; i++)); do
    t=$(now); "$keel" image build -q "$dist"; keel_times+=("$(echo "$(now) - $t" | bc)")
    t=$(now); tar czf "$work/files.tar.gz" -C "${files[0]}" .; tar_times+=("$(echo "$(now) - $t" | bc)")
  done
  local k t2 image gz
  k=$(printf '%s\n' "${keel_times[@]}" | median)
  t2=$(printf '%s\n' "${tar_times[@]}" | median)
  image=$(stat -c %s "$dist/hello-1.0.0.oci.tar")
  gz=$(stat -c %s "$work/files.tar.gz")
  # The layer is the largest blob; the rest is the image's own weight (documents, tar headers).
  layer=$(tar -tvf "$dist/hello-1.0.0.oci.tar" | awk '{print $3}' | sort -n | tail -1)
  printf '%-6s keel image build %6.3fs  tar czf %6.3fs  ratio %.2f | image %d B, its layer %d B (overhead %d B), tar czf %d B (image - tar czf = %+d B)\n' \
    "$1" "$k" "$t2" "$(echo "$k / $t2" | bc -l)" "$image" "$layer" "$((image - layer))" "$gz" "$((image - gz))"
}

setup small 0
setup big "$mib"
bench small
bench big
