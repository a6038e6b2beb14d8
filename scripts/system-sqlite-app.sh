#!/usr/bin/env bash
# An app on rusqlite 0.40 (the minor before keel's) linking the system's SQLite builds with
# keel-update (default features off: no bundled SQLite, no store client), links that one
# SQLite, snapshots its database with keel-update, and has no HTTP or TLS crate in its tree. Shares the workspace's target folder, so only what differs is
# built.
#   scripts/system-sqlite-app.sh
set -euo pipefail
cd "$(dirname "$0")/.."
app=crates/keel-update/tests/fixtures/rusqlite-0.40
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --quiet --locked --manifest-path "$app/Cargo.toml" --target-dir target
out=$(target/debug/system-sqlite-app "$work")
echo "$out"
system=$(pkg-config --modversion sqlite3)
case "$out" in
  "sqlite $system, 2 rows in the snapshot") ;;
  *) echo "error: expected the system's SQLite $system and 2 rows, got: $out" >&2; exit 1 ;;
esac
# One SQLite in the program: the system's shared library, no second copy compiled in.
# (ldd's output is read whole: `ldd | grep -q` under pipefail fails when grep exits first.)
libs=$(ldd target/debug/system-sqlite-app)
grep -q 'libsqlite3\.so' <<<"$libs" \
  || { echo "error: the app does not link the system's libsqlite3; it links:" >&2; echo "$libs" >&2; exit 1; }
tree=$(cargo tree --locked --manifest-path "$app/Cargo.toml" -e normal -i libsqlite3-sys --depth 0)
[ "$(grep -c '^libsqlite3-sys' <<<"$tree")" = 1 ] || { echo "error: $tree" >&2; exit 1; }
# Without the `store` feature, keel-update brings no HTTP or TLS stack.
all=$(cargo tree --locked --manifest-path "$app/Cargo.toml" -e normal --prefix none)
if grep -E '^(ureq|rustls|ring|webpki-roots|rustls-native-certs) ' <<<"$all"; then
  echo "error: keel-update without its store client still brings the crates above" >&2
  exit 1
fi
