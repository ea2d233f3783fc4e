#!/usr/bin/env bash
# Regenerates pcaps/tshark/*.decode.tsv: tshark's decoding of every TCP frame
# of every shipped capture, for decode's comparison test (which then needs no
# tshark). Columns: see FIELDS below. Needs the Debian package tshark.
set -euo pipefail
cd "$(dirname "$0")/.."
FIELDS="frame.number tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.hdr_len tcp.flags tcp.window_size_value tcp.len ip.ttl ip.id ip.len ipv6.hlim ipv6.plen tcp.options.mss_val tcp.options.wscale.shift tcp.options.sack_perm tcp.options.sack_le tcp.options.sack_re tcp.options.timestamp.tsval tcp.options.timestamp.tsecr"
args=()
for f in $FIELDS; do args+=(-e "$f"); done
for cap in *.pcap *.pcapng; do
  out="tshark/$cap.decode.tsv"
  { echo "# $(tshark --version 2>/dev/null | head -1)"; echo "# $FIELDS"
    tshark -n -r "$cap" -Y tcp -T fields -E separator=/t -E occurrence=a -E aggregator=, \
      -o tcp.relative_sequence_numbers:FALSE "${args[@]}" 2>/dev/null || true; } > "$out"
done
