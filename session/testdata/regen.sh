#!/usr/bin/env bash
# Regenerates the tshark expectations that session's tests compare against.
# Needs tshark 4.0 (the version is recorded in tshark/VERSION); the tests
# themselves never run tshark. Run from anywhere:
#   session/testdata/regen.sh
set -euo pipefail
cd "$(dirname "$0")"
PCAPS=../../pcaps
OUT=tshark
mkdir -p "$OUT"
tshark --version 2>/dev/null | head -1 > "$OUT/VERSION"

# follow: captures and the streams to follow. The list covers clean
# sessions, lost segments (gaps), retransmitted and overlapping data.
# Outputs are gzipped: the HTTP captures follow to megabytes of hex.
FOLLOW=(
  "tcpdump-print-flags.pcap 0"
  "pcapplusplus-one_http_stream_rst.pcap 0"
  "pcapplusplus-unidirectional_tcp_stream_with_missing_packet.pcap 0"
  "zeek-tcp-reassembly.pcap 0"
  "zeek-tcp-ssh-dups.pcap 0"
  "zeek-redis-pubsub.pcap 0 1 2 3"
  "zeek-http-206_example_a.pcap 0 1"
  "zeek-http-1000-requests-one-dropped-response.pcap 0"
  "suricata-verify-eve-overlap-payload-01-tcp-overlap.pcap 0"
  "zeek-tcp-handshake-reorder.pcap 0"
  "zeek-tcp-missing-syn.pcap 0"
  "zeek-tcp-timestamp.pcap 0"
  "tcpdump-ssh.pcap 0"
  "zeek-tcp-tcp-fast-open.pcap 0 1"
)
for row in "${FOLLOW[@]}"; do
  set -- $row
  f=$1; shift
  for s in "$@"; do
    tshark -r "$PCAPS/$f" -q -z "follow,tcp,raw,$s" 2>/dev/null | gzip -n -9 > "$OUT/$f.follow$s.txt.gz"
  done
done

# stats: tshark's conversation table, and per-frame fields from which the
# exact per-stream, per-direction packet and byte counts follow (the table
# rounds large byte counts to kB).
STATS=(
  tcpdump-print-flags.pcap
  pcapplusplus-one_http_stream_rst.pcap
  pcapplusplus-pcapng-example.pcapng
  pcapplusplus-unidirectional_tcp_stream_with_missing_packet.pcap
  zeek-tcp-retransmit-fast009.pcap
  zeek-tcp-reassembly.pcap
  zeek-tcp-ssh-dups.pcap
  zeek-redis-pubsub.pcap
  zeek-http-206_example_a.pcap
  zeek-http-1000-requests-one-dropped-response.pcap
  suricata-verify-bug-7657-01.pcap
  zeek-tcp-handshake-reorder.pcap
  zeek-tcp-syn-then-stuff-then-rst.pcap
  zeek-tcp-tcp-fast-open.pcap
  tcpdump-tfo-5c1fa7f9ae91.pcap
  pcapplusplus-raw_ip.pcap
)
for f in "${STATS[@]}"; do
  tshark -r "$PCAPS/$f" -q -z conv,tcp 2>/dev/null > "$OUT/$f.conv.txt"
  tshark -r "$PCAPS/$f" -Y tcp -T fields -E separator=/t \
    -e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e frame.len -e tcp.len 2>/dev/null > "$OUT/$f.frames.tsv"
done
