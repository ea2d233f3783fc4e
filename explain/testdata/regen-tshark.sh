#!/usr/bin/env bash
# Regenerates explain/testdata/tshark/*.tsv: tshark's value for every header
# field that `tcpscope decode` explains, for every TCP frame of every capture
# in pcaps/. explain's TestDecodeMatchesTshark compares against these files,
# so the tests never need tshark themselves. Needs the Debian package tshark
# (the committed files were made with the version named on their first line).
#
# Checksums are verified (ip/tcp.check_checksum) so the *.status columns say
# what tshark concluded: 0 bad, 1 good, 2 unverified.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../pcaps"
FIELDS="frame.number
tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.hdr_len tcp.flags tcp.window_size_value tcp.checksum tcp.checksum.status tcp.urgent_pointer
ip.version ip.hdr_len ip.dsfield ip.len ip.id ip.flags ip.frag_offset ip.ttl ip.proto ip.checksum ip.checksum.status
ipv6.tclass ipv6.flow ipv6.plen ipv6.nxt ipv6.hlim
tcp.options.mss_val tcp.options.wscale.shift tcp.options.sack_perm tcp.options.sack_le tcp.options.timestamp.tsval tcp.options.timestamp.tsecr"
FIELDS=$(echo $FIELDS) # one line
args=()
for f in $FIELDS; do args+=(-e "$f"); done
rm -f "$here"/tshark/*.tsv
# Only committed captures: the tests open each one named here.
for cap in $(git ls-files "*.pcap" "*.pcapng"); do
  out="$here/tshark/$cap.tsv"
  rows=$(tshark -n -r "$cap" -Y tcp -T fields -E separator=/t -E occurrence=a -E aggregator=, \
      -o tcp.relative_sequence_numbers:FALSE -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
      "${args[@]}" 2>/dev/null || true)
  [ -n "$rows" ] || continue # unreadable or no TCP: nothing to compare
  { echo "# $(tshark --version 2>/dev/null | head -1)"; echo "# $FIELDS"; echo "$rows"; } > "$out"
done
