#!/usr/bin/env bash
# bench-compare.sh: tcpscope against tcpdump, tcptrace and tshark on one
# large capture of real loopback TCP, timed in one run on the same file.
#
#   scripts/bench-compare.sh            # uses (or first makes) bench/big.pcap
#   BENCH_PCAP=F scripts/bench-compare.sh
#   BENCH_10M=1 scripts/bench-compare.sh  # also ≥10 M packets (the capture concatenated)
#
# Making the capture needs root (a network namespace with loss from nftables),
# ip, nft, tcpdump and Go. The capture is not in git (bench/*.pcap is ignored).
# Peak RSS is /usr/bin/time's %M. tshark is slow: it runs on the first
# $TSHARK_PACKETS packets (default 100000) and its rate is scaled from that.
set -euo pipefail
cd "$(dirname "$0")/.."

F=${BENCH_PCAP:-bench/big.pcap}
BIN=${TCPSCOPE:-./tcpscope}
TSHARK_PACKETS=${TSHARK_PACKETS:-100000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ -x "$BIN" ] || go build -o "$BIN" ./cmd/tcpscope
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

# make_capture records ≥1 M packets of real kernel TCP: in a private network
# namespace, loopback with MTU 1500 and one segment per packet (gso_max_segs
# 1, so segments are real-sized), 2 % of packets dropped at random on input
# by nftables, bench/loadgen runs 20 000 short request/response connections
# and 4 bulk transfers of 250 MB. tcpscope capture -w records it (annotating
# to /dev/null); if the kernel dropped packets for it, tcpdump records the
# run again instead, and that is said.
make_capture() {
  local out=$1 ns=tcpscope-bench-$$
  [ "$(id -u)" -eq 0 ] || { echo "bench: making $out needs root (network namespace)" >&2; exit 1; }
  mkdir -p "$(dirname "$out")"
  go build -o "$TMP/loadgen" ./bench/loadgen
  for tool in tcpscope tcpdump; do
    ip netns add "$ns"
    # shellcheck disable=SC2016
    ip netns exec "$ns" sh -c '
      set -e
      ip link set lo up; ip link set lo mtu 1500; ip link set lo gso_max_segs 1
      nft add table inet bench
      nft add chain inet bench in "{ type filter hook input priority 0; }"
      nft add rule inet bench in numgen random mod 100 "<" 2 drop
      if [ "$1" = tcpscope ]; then
        "$2" capture -w "$3" tcp >/dev/null 2>"$4/cap.err" & cp=$!
      else
        tcpdump -i lo -B 65536 -s 0 -w "$3" tcp 2>"$4/cap.err" & cp=$!
      fi
      sleep 1
      "$4/loadgen" -short 20000 -conc 64 -bulk 4 -bulk-bytes 250000000
      sleep 1
      kill -INT $cp; wait $cp || true' sh "$tool" "$BIN" "$out" "$TMP" || true
    ip netns del "$ns" || true
    cat "$TMP/cap.err" >&2
    local drops
    drops=$(grep -oE '[0-9]+ (packets )?dropped by (the )?kernel' "$TMP/cap.err" | grep -oE '^[0-9]+' | head -1)
    echo "bench: capture by $tool: ${drops:-?} packets dropped by the kernel" >&2
    if [ "${drops:-1}" = 0 ]; then
      echo "$tool" >"$out.capturer"
      return
    fi
    echo "bench: $tool dropped packets; recording again with the next tool" >&2
  done
}

[ -s "$F" ] || make_capture "$F"
packets=$(capinfos -M -c "$F" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
echo "capture: $F, $packets packets, $(du -h "$F" | cut -f1)$( [ -f "$F.capturer" ] && echo ", recorded by $(cat "$F.capturer")")"

# run NAME SCALE CMD…: times CMD (stdout and stderr to /dev/null) and keeps
# seconds, peak RSS (KiB) and SCALE (how many packets it processed).
declare -A secs rss scale
order=()
run() {
  local name=$1 n=$2
  shift 2
  /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" >/dev/null 2>&1 || true
  read -r s m <"$TMP/time" || { s=$(tail -1 "$TMP/time" | cut -d' ' -f1); m=$(tail -1 "$TMP/time" | cut -d' ' -f2); }
  secs[$name]=$s; rss[$name]=$m; scale[$name]=$n
  order+=("$name")
}

run "read (tcpdump -r F -w /dev/null)" "$packets" tcpdump -r "$F" -w /dev/null
run "tcpdump -nr F" "$packets" tcpdump -nr "$F"
run "tcptrace -n F" "$packets" tcptrace -n "$F"
editcap -r "$F" "$TMP/head.pcap" "1-$TSHARK_PACKETS" >/dev/null 2>&1
run "tshark TCP analysis (first $TSHARK_PACKETS, scaled)" "$TSHARK_PACKETS" \
  timeout 600 tshark -r "$TMP/head.pcap" -o tcp.analyze_sequence_numbers:TRUE -q -z conv,tcp
run "tcpscope replay (text)" "$packets" "$BIN" replay "$F" --color never
run "tcpscope replay --json" "$packets" "$BIN" replay "$F" --json
run "tcpscope stats" "$packets" "$BIN" stats "$F"

base=${secs["tcpdump -nr F"]}
printf '\n%-52s %9s %13s %13s %10s\n' "tool" "seconds" "packets/s" "rate/tcpdump" "peak RSS"
for name in "${order[@]}"; do
  awk -v n="$name" -v s="${secs[$name]}" -v p="${scale[$name]}" -v m="${rss[$name]}" -v b="$base" -v all="$packets" 'BEGIN {
    if (s <= 0) s = 0.005
    rate = p / s
    printf "%-52s %9.2f %13.0f %12.2fx %7.1f MB\n", n, s * all / p, rate, rate / (all / b), m / 1024 }'
done

# The goals, as the issue states them.
check() { if awk "BEGIN { exit !($2) }"; then echo "PASS  $1"; else echo "FAIL  $1"; fi; }
echo
r=${secs["read (tcpdump -r F -w /dev/null)"]} tt=${secs["tcptrace -n F"]}
text=${secs["tcpscope replay (text)"]} js=${secs["tcpscope replay --json"]} st=${secs["tcpscope stats"]}
check "replay text ≥ 2× tcpdump's packet rate ($text s vs $base s)" "$text * 2 <= $base"
check "replay --json ≥ 2× tcpdump's packet rate ($js s vs $base s)" "$js * 2 <= $base"
check "stats faster than tcptrace ($st s vs $tt s)" "$st < $tt"
check "stats within 3× of reading the file ($st s vs $r s)" "$st <= 3 * $r"
for name in "tcpscope replay (text)" "tcpscope replay --json" "tcpscope stats"; do
  check "$name peak RSS < 64 MB (${rss[$name]} KiB)" "${rss[$name]} < 65536"
done

# Live capture: a full-speed bulk transfer on loopback (MTU 65536 and GSO, as
# Linux sets it up: 64 KiB segments at several GB/s) in a private network
# namespace, captured at the same time by tcpscope (annotating to a file)
# and by tcpdump (printing to a file), both with their defaults. Each
# reports the kernel's count of packets dropped for it (buffer full).
live_capture() {
  local ns=tcpscope-live-$$
  [ -x "$TMP/loadgen" ] || go build -o "$TMP/loadgen" ./bench/loadgen
  ip netns add "$ns"
  # shellcheck disable=SC2016
  ip netns exec "$ns" sh -c '
    ip link set lo up
    "$1" capture tcp >"$2/live-ours.txt" 2>"$2/live-ours.err" & a=$!
    tcpdump -i lo -n tcp >"$2/live-tcpdump.txt" 2>"$2/live-tcpdump.err" & b=$!
    sleep 1
    "$2/loadgen" -short 0 -bulk 1 -bulk-bytes "$3" >"$2/live-loadgen.txt" 2>&1
    sleep 0.5
    kill -INT $a $b; wait $a; wait $b' sh "$BIN" "$TMP" "${LIVE_BYTES:-4000000000}" || true
  ip netns del "$ns" || true
  local ours theirs recv lines
  ours=$(grep -oE '[0-9]+ dropped by the kernel' "$TMP/live-ours.err" | grep -oE '^[0-9]+' || echo '?')
  recv=$(grep -oE '[0-9]+ packets received by the kernel' "$TMP/live-ours.err" | grep -oE '^[0-9]+' || echo '?')
  theirs=$(grep -oE '[0-9]+ packets dropped by kernel' "$TMP/live-tcpdump.err" | grep -oE '^[0-9]+' || echo '?')
  lines=$(grep -c '^#' "$TMP/live-ours.txt" || true)
  echo
  echo "live capture: $(cat "$TMP/live-loadgen.txt"); $recv packets seen by the kernel's filter (each loopback packet counts twice)"
  echo "  tcpscope capture (text to a file): $lines segments shown, $ours dropped by the kernel"
  echo "  tcpdump -n (text to a file), same traffic at the same time: $(grep -oE '^[0-9]+ packets captured' "$TMP/live-tcpdump.err"), $theirs dropped by the kernel"
  check "live capture of a full-speed loopback transfer: tcpscope drops nothing ($ours dropped; tcpdump $theirs)" "\"$ours\" == \"0\""
}
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null; then
  live_capture
else
  echo "live capture check skipped: it needs root (a network namespace)"
fi

if [ -n "${BENCH_10M:-}" ]; then
  F10=${F%.pcap}-10m.pcap
  if [ ! -s "$F10" ]; then
    k=$(( (10000000 + packets - 1) / packets ))
    files=()
    for _ in $(seq "$k"); do files+=("$F"); done
    mergecap -a -F pcap -w "$F10" "${files[@]}"
  fi
  p10=$(capinfos -M -c "$F10" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
  echo
  echo "10 M check: $F10, $p10 packets (the capture concatenated)"
  for args in "replay --color never" "replay --json" "stats"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$BIN" $args "$F10" >/dev/null 2>&1 || true
    read -r s m <"$TMP/time"
    check "tcpscope $args on $p10 packets: $s s, peak RSS $m KiB < 64 MB" "$m < 65536"
  done
fi
