#!/bin/sh
# A tour of ledger in a temporary folder: migrate, add, list, doctor.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
ledger=${LEDGER:-$here/ledger}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/books.db"
"$ledger" --version
"$ledger" --db "$db" migrate
"$ledger" --db "$db" add salary 3200 --memo "May salary"
"$ledger" --db "$db" add rent -950.00 --memo "May rent"
"$ledger" --db "$db" list
"$ledger" --db "$db" doctor
