#!/usr/bin/env bash
# Runs the README's tour and "Your own project" as written (its blocks marked
# `<!-- test: NAME -->`), and a release of the example checked with real tools, with a keel
# binary:
#   scripts/walkthrough.sh [path/to/keel]     (default: builds and runs keel with cargo)
set -euo pipefail
cd "$(dirname "$0")/.."
keel=${1:-}
if [ -z "$keel" ]; then
  cargo build --release -p keel
  keel=target/release/keel
fi
keel=$(cd "$(dirname "$keel")" && pwd)/$(basename "$keel")

example=examples/ledger
dist=$example/target/keel/dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A signing key; CI would hold it in KEEL_SIGNING_KEY and KEEL_SIGNING_KEY_PASSWORD.
export KEEL_SIGNING_KEY_PASSWORD=walkthrough-password
"$keel" keygen --out "$work/keys/release"

"$keel" plan --manifest-path $example/Cargo.toml --sign-key "$work/keys/release.key"
"$keel" release --manifest-path $example/Cargo.toml --sign-key "$work/keys/release.key"
"$keel" verify $dist --public-key "$work/keys/release.pub"
(cd $dist && minisign -Vm SHA256SUMS -p "$work/keys/release.pub")

host=$(rustc -vV | sed -n 's/^host: //p')
version=$(sed -n 's/^version = "\(.*\)"/\1/p' $example/Cargo.toml | head -n 1)
archive=ledger-$version-$host.tar.gz
(cd $dist && sha256sum -c SHA256SUMS && sha256sum -c "$archive.sha256")

unpacked=$work/unpacked
mkdir -p "$unpacked"
tar -xzf "$dist/$archive" -C "$unpacked"
"$unpacked/ledger-$version-$host/demo/demo.sh"

# The shell installer, pointed at the release folder as a mirror, into a throw-away home; the
# release notes name it.
HOME="$work/home" LEDGER_DOWNLOAD_URL="file://$PWD/$dist" sh "$dist/ledger-installer.sh" --no-modify-path
[ "$("$work/home/.local/bin/ledger" --version | sed -n 1p)" = "ledger $version" ]
"$keel" notes "$dist" --manifest-path $example/Cargo.toml --public-key "$work/keys/release.pub" >"$work/notes.md"
grep -q "sh ledger-installer.sh" "$work/notes.md"

# A second release of the same commit is byte-identical.
before=$(cd $dist && sha256sum ./*)
"$keel" release --quiet --manifest-path $example/Cargo.toml --sign-key "$work/keys/release.key"
after=$(cd $dist && sha256sum ./*)
[ "$before" = "$after" ] || { echo "walkthrough: the second release differs" >&2; exit 1; }
# The CI pipeline, written for a copy of the example (the example itself stays untouched).
ci=$work/ci
mkdir -p "$ci"
cp -r $example/Cargo.toml $example/Cargo.lock $example/build.rs $example/src $example/demo "$ci/"
sed -i "s#\.\./\.\./crates#$PWD/crates#g" "$ci/Cargo.toml"
"$keel" ci init --manifest-path "$ci/Cargo.toml"
"$keel" ci check --manifest-path "$ci/Cargo.toml"
"$keel" ci matrix --manifest-path "$ci/Cargo.toml"
"$keel" ci matrix --manifest-path "$ci/Cargo.toml" --format json | python3 -m json.tool >/dev/null
echo "# edited by hand" >>"$ci/.github/workflows/release.yml"
if "$keel" ci check --manifest-path "$ci/Cargo.toml"; then
  echo "walkthrough: ci check missed an edit" >&2
  exit 1
fi
"$keel" ci init --gitlab --manifest-path "$ci/Cargo.toml"
"$keel" ci check --gitlab --manifest-path "$ci/Cargo.toml"

# Versions from commits, on a fresh clone of a repository of the example: `keel bump` sets the
# version from the conventional commits since the last tag, writes the changelog, commits and
# tags; `keel release --tag` releases that tag.
export GIT_AUTHOR_NAME=walkthrough GIT_AUTHOR_EMAIL=walkthrough@example.invalid
export GIT_COMMITTER_NAME=walkthrough GIT_COMMITTER_EMAIL=walkthrough@example.invalid
origin=$work/origin
mkdir -p "$origin"
cp -r $example/Cargo.toml $example/Cargo.lock $example/build.rs $example/src $example/demo "$origin/"
sed -i "s#\.\./\.\./crates#$PWD/crates#g" "$origin/Cargo.toml"
printf '/target\n' >"$origin/.gitignore"
git -C "$origin" init -q -b main
git -C "$origin" add -A
git -C "$origin" commit -qm "feat: the ledger"
git -C "$origin" tag -a "v$version" -m "ledger $version"
echo "# Ledger" >"$origin/README.md"
git -C "$origin" add README.md
git -C "$origin" commit -qm "docs: a README"
echo "// Totals per month." >>"$origin/src/main.rs"
git -C "$origin" commit -qam "feat(report): monthly totals"
clone=$work/clone
git clone -q "$origin" "$clone"
"$keel" bump auto --commit --tag --manifest-path "$clone/Cargo.toml"
bumped=$(sed -n 's/^version = "\(.*\)"/\1/p' "$clone/Cargo.toml" | head -n 1)
[ "$bumped" != "$version" ] || { echo "walkthrough: bump left the version at $version" >&2; exit 1; }
[ "$(git -C "$clone" tag --points-at HEAD)" = "v$bumped" ]
grep -q "monthly totals" "$clone/CHANGELOG.md"
(cd "$clone" && "$keel" release --tag --out "$work/bumped" --sign-key "$work/keys/release.key")
"$keel" verify "$work/bumped" --public-key "$work/keys/release.pub"
grep -q "\"tag\": \"v$bumped\"" "$work/bumped/keel-manifest.json"
notes=$("$keel" notes "$work/bumped" --manifest-path "$clone/Cargo.toml")
grep -q "monthly totals" <<<"$notes"

# The README's blocks, run as written: each block marked `<!-- test: NAME -->` (the marker
# on the line before the ```sh fence), run with this keel first on PATH, in one shell per
# section as a reader would, with no CARGO_TARGET_DIR so that releases land in target/keel/dist.
readme_block() {
  local code
  code=$(awk -v name="$1" '
    $0 == "<!-- test: " name " -->" { marked = 1; next }
    marked && $0 == "```sh" { inside = 1; marked = 0; next }
    inside && $0 == "```" { exit }
    inside { print; next }
    NF { marked = 0 }
  ' README.md)
  [ -n "$code" ] || { echo "walkthrough: README.md has no block marked \`$1\`" >&2; exit 1; }
  printf '%s\n' "$code"
}
mkdir -p "$work/bin"
ln -s "$keel" "$work/bin/keel"
run_readme() {
  local dir=$1 script=""
  shift
  for name in "$@"; do script+=$(readme_block "$name")$'\n'; done
  (cd "$dir" && env -u CARGO_TARGET_DIR PATH="$work/bin:$PATH" bash -euo pipefail -c "$script")
}

# The five-minute tour, in a copy of the example that is a git repository of its own, as the
# example is in a clone of keel.
tour=$work/tour/ledger
mkdir -p "$tour"
cp -r $example/Cargo.toml $example/Cargo.lock $example/build.rs $example/src $example/demo \
  $example/.gitignore $example/README.md $example/LICENSE "$tour/"
sed -i "s#\.\./\.\./crates#$PWD/crates#g" "$tour/Cargo.toml"
git -C "$tour" init -q -b main
git -C "$tour" add -A
git -C "$tour" commit -qm "feat: the ledger"
run_readme "$tour" tour-release tour-publish tour-install tour-update
next=$(sed -n 's/^version = "\(.*\)"/\1/p' "$tour/Cargo.toml" | head -n 1)
[ "$next" != "$version" ] || { echo "walkthrough: the tour's bump left the version at $version" >&2; exit 1; }
[ "$("$tour/tour/bin/ledger" --version | sed -n 1p)" = "ledger $next" ]
"$tour/tour/bin/ledger" --db "$tour/tour/books.db" list | grep -q salary
KEEL_HOME=$tour/tour "$keel" doctor --app ledger
[ -f "$tour/store/metadata/root.json" ]

# "Your own project", on a new binary crate.
own=$work/own/hello
mkdir -p "$work/own"
(cd "$work/own" && env -u CARGO_TARGET_DIR cargo new --quiet --vcs git hello && cd hello &&
  env -u CARGO_TARGET_DIR cargo generate-lockfile --quiet && git add -A && git commit -qm "feat: hello")
run_readme "$own" own-project
[ -f "$own/store/metadata/root.json" ] && [ -f "$own/.github/workflows/release.yml" ]
"$keel" verify "$own/target/keel/dist" --public-key "$own/keys/release.pub"
"$keel" ci check --manifest-path "$own/Cargo.toml"
echo "walkthrough: ok"
