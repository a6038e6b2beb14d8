#!/usr/bin/env bash
# Update benchmarks, reported as ratios in one run:
#  1. snapshotting a SQLite database (default 1 GiB, WAL mode) with keel's online backup,
#     against `sqlite3 .backup` and against `cp` + `sync` (a bare copy, unsafe on a live
#     database, shown as the floor);
#  2. swapping an executable: the median time of keel's swap (copy beside, fsync, rename,
#     fsync the folder) and how often a concurrent reader found the executable missing
#     (it must never be: the swap is one rename).
#   scripts/bench/update.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")/../.."
mib=${1:-1024}
cargo build --release -q -p keel-update --example bench
bench=$PWD/target/release/examples/bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/data.db
rows=$((mib * 1024))
echo "creating a ${mib} MiB database ($rows rows of 1 KiB)..."
sqlite3 "$db" "PRAGMA journal_mode=WAL; PRAGMA page_size=4096;
  CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
  INSERT INTO t (b) SELECT randomblob(1000) FROM n;" >/dev/null
ls -l "$db" | awk '{ printf "database: %.0f MiB\n", $5 / 1048576 }'

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
keel_ms=(); backup_ms=(); cp_ms=()
for _ in 1 2 3; do
  rm -f "$work"/snap*
  sync
  keel_ms+=("$("$bench" snapshot "$db" "$work/snap-keel.db")")
  sync
  start=$(now); sqlite3 "$db" ".backup '$work/snap-sqlite.db'"; backup_ms+=($((($(now) - start) / 1000000)))
  sync
  start=$(now); cp "$db" "$work/snap-cp.db" && sync "$work/snap-cp.db"; cp_ms+=($((($(now) - start) / 1000000)))
done
k=$(printf '%s\n' "${keel_ms[@]}" | median)
b=$(printf '%s\n' "${backup_ms[@]}" | median)
c=$(printf '%s\n' "${cp_ms[@]}" | median)
echo "snapshot, median of 3: keel ${k} ms, sqlite3 .backup ${b} ms, cp + sync ${c} ms"
awk -v k="$k" -v b="$b" -v c="$c" 'BEGIN { printf "ratio keel / sqlite3 .backup: %.2f; keel / cp: %.2f\n", k / b, k / c }'

head -c $((16 << 20)) /dev/urandom >"$work/new-binary"
read -r swap_us checks missing < <("$bench" swap "$work/new-binary" "$work/installed-binary" 50)
echo "swap of a 16 MiB executable, median of 50: ${swap_us} us; a concurrent reader checked ${checks} times and found it missing ${missing} times"
