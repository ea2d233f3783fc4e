#!/usr/bin/env bash
# Instructions per packet of a tcpscope command, counted by valgrind's
# cachegrind: a number that does not move from run to run, where wall and
# CPU times on a shared VM move by a quarter (see README, Performance).
#
#   scripts/instructions.sh [-b BINARY] [-f CAPTURE] [-n PACKETS] COMMAND [ARGS...]
#   scripts/instructions.sh replay --json
#   scripts/instructions.sh -b /tmp/tcpscope-old stats
#
# It cuts the first PACKETS (default 100 000) and 2×PACKETS packets of
# CAPTURE (default bench/big.pcap, made by `make bench`) with tcpdump, runs
# `tcpscope COMMAND ARGS... CUT` on each under cachegrind on one thread with
# the garbage collector off, and prints the difference divided by PACKETS:
# what a packet costs once the program is running, without its start-up
# (about 14 million instructions) or its final summary. The hand-offs
# between goroutines poll a little while before they sleep, so counts
# still vary by about ±100 a packet. --cache-sim=no: instructions only.
#
# Needs valgrind and tcpdump (apt-get install valgrind tcpdump).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=""
capture=bench/big.pcap
n=100000
while getopts b:f:n: opt; do
  case $opt in
    b) bin=$OPTARG ;;
    f) capture=$OPTARG ;;
    n) n=$OPTARG ;;
    *) sed -n 5,8p "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
  sed -n 5,8p "$0" >&2
  exit 2
fi
for tool in valgrind tcpdump; do
  command -v "$tool" >/dev/null || { echo "instructions.sh: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
[ -r "$capture" ] || { echo "instructions.sh: $capture: no such capture (make bench makes bench/big.pcap)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$bin" ]; then
  bin=$tmp/tcpscope
  go build -o "$bin" ./cmd/tcpscope
fi

count() { # count PACKETS ARGS...: instructions of tcpscope ARGS on that many packets
  local packets=$1
  shift
  tcpdump -r "$capture" -c "$packets" -w "$tmp/cut.pcap" 2>/dev/null
  GOGC=off GOMEMLIMIT=8GiB GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no \
    --cachegrind-out-file=/dev/null "$bin" "$@" "$tmp/cut.pcap" 2>&1 >/dev/null |
    awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}
one=$(count "$n" "$@")
two=$(count $((2 * n)) "$@")
echo "tcpscope $*: $(( (two - one) / n )) instructions a packet (packets $((n + 1))–$((2 * n)) of $capture)"
