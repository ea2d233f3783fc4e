#!/usr/bin/env bash
# Runs every fuzz target of the repository briefly (default 10 s each, one at
# a time), so CI catches a crash the committed corpora (testdata/fuzz/) or a
# few seconds of mutation can find. A failing target leaves its crasher in
# testdata/fuzz/FuzzX/ and makes the script exit non-zero.
#
#   scripts/fuzz-smoke.sh [FUZZTIME]     e.g. scripts/fuzz-smoke.sh 60s
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
fail=0
# Every func FuzzX in a _test.go file, as "package-dir FuzzX".
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
  d=$(dirname "$f")
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |$d |"
done | sort -u)
[ -n "$targets" ] || { echo "fuzz-smoke: no fuzz targets found" >&2; exit 1; }
while read -r dir name; do
  start=$(date +%s)
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$dir" >/tmp/fuzz-smoke.log 2>&1; then
    echo "fuzz-smoke: ok   $dir $name ($(( $(date +%s) - start )) s)"
  else
    echo "fuzz-smoke: FAIL $dir $name" >&2
    tail -30 /tmp/fuzz-smoke.log >&2
    fail=1
  fi
done <<< "$targets"
exit $fail
