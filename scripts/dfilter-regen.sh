#!/usr/bin/env bash
# Regenerates pcaps/tshark/dfilter.tsv: for every display filter in
# dfilter/testdata/agreement.txt and every capture in CAPTURES below, the
# frames `tshark -r CAPTURE -Y 'tcp && (FILTER)'` selects. dfilter's
# agreement test (TestAgreesWithTshark) compares tcpscope's selection with
# it, without tshark. Needs the Debian package tshark (4.0).
#
#   scripts/dfilter-regen.sh
#
# Format: "# tshark version" and "# captures: ..." lines, then per filter a
# line "F<TAB>filter" followed by one "capture<TAB>frames" line per capture
# where tshark selected something (frames as ranges: 1-5,9). A capture
# without a line selected nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
CAPTURES="lo-bulk-loss.pcap lo-ipv6-loss.pcap zeek-http-206_example_a.pcap lo-short-conns-loss.pcap
lo-zero-window.pcap lo-keepalive.pcap lo-reset.pcap zeek-tcp-retransmit-fast009.pcap zeek-tcp-ssh-dups.pcap
tcpdump-ssh.pcap pcapplusplus-sll2.pcap zeek-vlan-qinqinq.pcap zeek-ipv6-http-atomic-frag.pcap
zeek-tcp-option-sack.pcap tcpdump-print-flags.pcap zeek-tcp-window-scale-range.pcap
zeek-tcp-handshake-reorder.pcap tcpdump-accecn_handshake.pcap zeek-tcp-rst-inject-rae.pcap
pcapplusplus-frag_http_req.pcap tcpdump-tcp_eight_lowest_weight_flags_set.pcap tcpdump-tcp-handshake-nano.pcap
zeek-tcp-timestamp.pcap pcapplusplus-one_http_stream_rst.pcap tcpdump-tcp_rst_data.pcap"
out=pcaps/tshark/dfilter.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -v '^#' dfilter/testdata/agreement.txt | grep -v '^$' > "$tmp/filters"
# One job per capture (three at a time): every filter over it, as lines
# "index<TAB>capture<TAB>frames".
run() {
  cap=$1; i=0
  while IFS= read -r f; do
    # Leading "-o pref:value" options: tcpscope verifies checksums, which
    # tshark does only when asked (tcp.check_checksum).
    opts=()
    while [[ $f == "-o "* ]]; do
      f=${f#-o }; opts+=(-o "${f%% *}"); f=${f#* }
    done
    frames=$(tshark -n "${opts[@]}" -r "pcaps/$cap" -Y "tcp && ($f)" -T fields -e frame.number 2>/dev/null |
      awk 'NR==1{s=$1;p=$1;next} {if($1==p+1){p=$1;next} printf "%s%s,", s, (p>s?"-" p:""); s=$1;p=$1}
           END{if(NR) printf "%s%s", s, (p>s?"-" p:"")}')
    [ -n "$frames" ] && printf '%d\t%s\t%s\n' "$i" "$cap" "$frames"
    i=$((i+1))
  done < "$tmp/filters"
}
export -f run
export tmp
printf '%s\n' $CAPTURES | xargs -P 3 -I{} bash -c 'run "$1" > "$tmp/$1.out"' _ {}
{
  echo "# $(tshark --version 2>/dev/null | head -1)"
  echo "# captures: $(echo $CAPTURES)"
  i=0
  while IFS= read -r f; do
    while [[ $f == "-o "* ]]; do f=${f#-o }; f=${f#* }; done
    printf 'F\t%s\n' "$f"
    for cap in $CAPTURES; do
      awk -F'\t' -v i="$i" '$1==i {print $2 "\t" $3}' "$tmp/$cap.out"
    done
    i=$((i+1))
  done < "$tmp/filters"
} > "$out"
echo "wrote $out: $(grep -c '^F' "$out") filters over $(echo $CAPTURES | wc -w) captures"
