#!/usr/bin/env bash
# Delta updates, in one run, on a realistic patch release of the example: ledger 1.0.0, then
# 1.0.1 with a version bump and one changed message, both built for real (keel release, dist
# profile) and published to two stores served by one nginx on loopback: one with patches (the
# default) and one with `--patches 0`.
# Prints the patch's size as a share of the full archive, then the time of `keel update`
# through the patch against through the full archive (median of 3), and the same two
# downloads with the standard tools (curl, and `zstd --patch-from` to apply).
#   scripts/bench/delta.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in nginx curl zstd git; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (scripts/test.sh installs it)" >&2; exit 1; }
done
cargo build --release -q -p keel
keel=$PWD/target/release/keel
export CARGO_TARGET_DIR=$PWD/target/bench-delta
work=$(mktemp -d)
nginx_pid=
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

host=$(rustc -vV | sed -n 's/^host: //p')
app=$work/ledger
mkdir -p "$app"
cp -r examples/ledger/Cargo.toml examples/ledger/Cargo.lock examples/ledger/build.rs \
  examples/ledger/src examples/ledger/demo "$app/"
sed -i "s#\.\./\.\./crates#$PWD/crates#g" "$app/Cargo.toml"
printf '/target\n' >"$app/.gitignore"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
git -C "$app" init -q -b main
git -C "$app" add -A
git -C "$app" commit -qm "ledger 1.0.0"
"$keel" keygen --out "$work/keys/release" --unencrypted >/dev/null

release() { # version
  echo "building ledger $1 (keel release, dist profile)..."
  "$keel" release --quiet --manifest-path "$app/Cargo.toml" --target "$host" \
    --out "$work/dist-$1" --sign-key "$work/keys/release.key"
  for store in patched full; do
    patches=3
    [ "$store" = full ] && patches=0
    "$keel" publish "$work/dist-$1" --to "$work/$store" --key "$work/keys/release.key" \
      --patches "$patches" --no-rehearsal "benchmark" --quiet
  done
}
release 1.0.0

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server { listen 127.0.0.1:$port; root $work; }
}
EOF
nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/patched/metadata/root.json" >/dev/null && break; sleep 0.1; done

install() { # store home: ledger 1.0.0
  KEEL_HOME="$work/$2" "$keel" install --quiet --app-version 1.0.0 --from "http://127.0.0.1:$port/$1" --app ledger --db "$work/$2/books.db" \
    --root "$work/$1/metadata/root.json" --dir "$work/$2/bin" --target "$host"
}

# The patch release: a version bump and one changed message.
sed -i 's/^version = "1.0.0"/version = "1.0.1"/' "$app/Cargo.toml"
grep -q ': ok (schema version' "$app/src/main.rs" \
  || { echo "error: the example's message to change is gone; update this script" >&2; exit 1; }
sed -i 's/: ok (schema version/: healthy (schema version/' "$app/src/main.rs"
(cd "$app" && cargo metadata --format-version 1 >/dev/null)
git -C "$app" commit -qam "ledger 1.0.1"
release 1.0.1

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
patched_ms=(); full_ms=()
for _ in 1 2 3; do
  rm -rf "$work/home-patched" "$work/home-full"
  install patched home-patched
  install full home-full
  start=$(now)
  KEEL_HOME="$work/home-patched" "$keel" --format json update --app ledger --yes >"$work/patched.json" 2>>"$work/update.log"
  patched_ms+=($((($(now) - start) / 1000000)))
  python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["download"]["kind"] != "patch")' "$work/patched.json" \
    || { echo "error: the update did not use the patch: $(cat "$work/patched.json")" >&2; exit 1; }
  start=$(now)
  KEEL_HOME="$work/home-full" "$keel" --format json update --app ledger --yes >"$work/full.json" 2>>"$work/update.log"
  full_ms+=($((($(now) - start) / 1000000)))
  cmp -s "$work/home-patched/bin/ledger" "$work/home-full/bin/ledger" \
    || { echo "error: the patched install differs from the full one" >&2; exit 1; }
done

archive=ledger-1.0.1-$host.tar.gz
patch=$archive.from-1.0.0.patch
archive_file=$(ls "$work/patched/targets/"*".$archive")
patch_file=$(ls "$work/patched/targets/"*".$patch")
archive_bytes=$(stat -c %s "$archive_file")
patch_bytes=$(stat -c %s "$patch_file")
awk -v p="$patch_bytes" -v a="$archive_bytes" 'BEGIN {
  printf "patch 1.0.0 -> 1.0.1: %d bytes; full archive: %d bytes; the patch is %.2f%% of the archive (goal: at most 20%%)\n", p, a, 100 * p / a
}'
p=$(printf '%s\n' "${patched_ms[@]}" | median)
f=$(printf '%s\n' "${full_ms[@]}" | median)
echo "keel update, median of 3: through the patch ${p} ms, through the full archive ${f} ms"
awk -v p="$p" -v f="$f" 'BEGIN { printf "ratio patch / full: %.2f\n", p / f }'

# The standard tools, on the same server: curl the archive, or curl the patch and apply it
# with zstd to the installed 1.0.0 executable.
cp "$work/dist-1.0.0/ledger-1.0.0-$host.tar.gz" "$work/old.tar.gz"
mkdir -p "$work/old" && tar -xzf "$work/old.tar.gz" -C "$work/old"
base=$(find "$work/old" -type f -name ledger | head -n 1)
curl_full=(); curl_patch=()
for _ in 1 2 3; do
  start=$(now)
  curl -sf -o "$work/full.tar.gz" "http://127.0.0.1:$port/patched/targets/$(basename "$archive_file")"
  curl_full+=($((($(now) - start) / 1000000)))
  start=$(now)
  curl -sf -o "$work/p.patch" "http://127.0.0.1:$port/patched/targets/$(basename "$patch_file")"
  zstd -q -f -d --long=30 --patch-from="$base" "$work/p.patch" -o "$work/p.tar"
  curl_patch+=($((($(now) - start) / 1000000)))
done
echo "curl the archive: $(printf '%s\n' "${curl_full[@]}" | median) ms; curl the patch + zstd --patch-from: $(printf '%s\n' "${curl_patch[@]}" | median) ms"
awk -v p="$patch_bytes" -v a="$archive_bytes" 'BEGIN {
  printf "at 10 Mbit/s: the archive takes %.1f s to download, the patch %.2f s\n", a * 8 / 10e6, p * 8 / 10e6
}'
