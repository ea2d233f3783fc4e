#!/usr/bin/env bash
# pgo-profile.sh: remake cmd/tcpscope/default.pgo, the CPU profile go build
# uses for profile-guided optimisation of tcpscope (inlining and
# devirtualising the calls that are hot in real runs; Go 1.21+ picks the
# file up by itself). The profile is of the commands make bench times, on
# its two captures (bench/big.pcap, bench/bulk.pcap: made first if missing,
# which needs root; see scripts/bench-compare.sh).
#
#   scripts/pgo-profile.sh
#
# Re-run it when the hot paths change a lot; an old profile is still valid,
# only less useful (go build ignores what no longer exists).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/big.pcap ] && [ -f bench/bulk.pcap ] || BENCH_MAKE_ONLY=1 scripts/bench-compare.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Built without the old profile, so it does not shape the new one.
go build -pgo=off -o "$TMP/tcpscope" ./cmd/tcpscope
i=0
for f in bench/bulk.pcap bench/big.pcap; do
  for args in "replay" "replay --json" "replay -Y tcp.analysis.flags" "stats" "follow --stream 2" "graph --stream 2 -o /dev/null" "ladder --stream 2"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    TCPSCOPE_CPUPROFILE="$TMP/$i.prof" "$TMP/tcpscope" $args "$f" >/dev/null 2>&1 || true
  done
done
go tool pprof -proto "$TMP"/*.prof >"$TMP/merged.pgo"
mv "$TMP/merged.pgo" cmd/tcpscope/default.pgo
echo "cmd/tcpscope/default.pgo: $(wc -c <cmd/tcpscope/default.pgo) bytes from $i runs"
