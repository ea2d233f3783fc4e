#!/usr/bin/env bash
# Builds tcpscope without cgo for every platform it is released for, and
# runs the unit tests of the library packages in a cgo-free build (the
# command's own tests need cgo's libpcap for some oracles and run in the
# main suite). Called by ./dev test; fails on the first target that breaks.
#
#   scripts/cross-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 windows/amd64; do
  os=${target%/*} arch=${target#*/}
  # Every package (tests are Linux's: they run below, cgo-free, here).
  # -pgo=off: a check that it builds; the profile would only make it slower.
  if out=$(CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -pgo=off -o /dev/null ./cmd/tcpscope 2>&1) &&
     out2=$(CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -pgo=off ./... 2>&1); then
    echo "cross-build: ok   $target (CGO_ENABLED=0)"
  else
    echo "cross-build: FAIL $target (CGO_ENABLED=0)" >&2
    printf '%s\n%s\n' "${out:-}" "${out2:-}" | head -30 >&2
    fail=1
  fi
done
# The library packages' tests, cgo-free, on this machine (-short: the long
# floods run in the main suite).
pkgs=$(go list ./... | grep -v '/cmd/')
if ! CGO_ENABLED=0 go test -short -count=1 $pkgs; then
  echo "cross-build: the library tests fail without cgo" >&2
  fail=1
fi
# Live capture through libpcap loaded at run time, as a cgo-free macOS
# build does it, on this Linux machine (the capture tests need root).
if ! CGO_ENABLED=0 go test -tags pcapdl -count=1 ./capture; then
  echo "cross-build: capture through libpcap loaded at run time fails" >&2
  fail=1
fi
exit $fail
