#!/usr/bin/env bash
# Builds tcpscope's release binaries into dist/, with the version stamped
# (tcpscope --version prints it, with the commit and the Go version).
#
#   scripts/release.sh [VERSION]     default: git describe --tags --always
#
# Linux amd64/arm64 are built with cgo (libpcap for tcpdump filters and live
# capture), as ./dev build does, when a C compiler for the target is there;
# every other target is built with CGO_ENABLED=0 (see the README's install
# section for what such a build can do).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}
mkdir -p dist
ldflags="-s -w -X main.version=$version"
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 windows/amd64; do
  os=${target%/*} arch=${target#*/}
  out=dist/tcpscope-$version-$os-$arch
  [ "$os" = windows ] && out=$out.exe
  cgo=0
  if [ "$os" = linux ] && [ "$arch" = "$(go env GOARCH)" ] && command -v cc >/dev/null; then cgo=1; fi
  if CGO_ENABLED=$cgo GOOS=$os GOARCH=$arch go build -buildvcs=auto -trimpath -ldflags "$ldflags" -o "$out" ./cmd/tcpscope 2>dist/build-$os-$arch.log; then
    echo "release: $out (cgo=$cgo)"
    rm -f dist/build-$os-$arch.log
  else
    echo "release: $target failed to build; see dist/build-$os-$arch.log" >&2
    exit 1
  fi
done
(cd dist && sha256sum tcpscope-"$version"-* > SHA256SUMS)
echo "release: dist/SHA256SUMS"
