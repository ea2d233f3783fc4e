#!/usr/bin/env bash
# Runs scripts/tshark-oracle over every capture given (default: pcaps/*)
# with tcpscope's JSON output, and
# prints the corpus-wide agreement per field and F1 per flag.
# Usage: scripts/oracle-all.sh [CAPTURE...]   (needs tshark and ./tcpscope)
set -uo pipefail
cd "$(dirname "$0")/.."
oracle=${TSHARK_ORACLE:-scripts/tshark-oracle}
caps=("$@")
if [ ${#caps[@]} -eq 0 ]; then caps=(pcaps/*.pcap pcaps/*.pcapng); fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for f in "${caps[@]}"; do
  b=$(basename "$f")
  ./tcpscope replay --json --no-summary "$f" > "$tmp/$b.jsonl" 2>/dev/null
  "$oracle" compare "$f" "$tmp/$b.jsonl" --show 5 > "$tmp/$b.cmp" 2>&1 || echo "below target or unreadable: $b" >&2
done
cat "$tmp"/*.cmp | awk '
/^field/ { split($3, a, "/"); n[$2]+=a[1]; d[$2]+=a[2] }
/^flag/  { for (i=3;i<=NF;i++) { split($i, kv, "="); if (kv[1]=="tshark") T[$2]+=kv[2]; if (kv[1]=="ours") O[$2]+=kv[2] } }
END {
  for (k in n) printf "field %-16s %6d/%-6d %.3f%%\n", k, n[k], d[k], 100*n[k]/d[k]
}' | sort
# per-flag corpus F1 needs true positives: recompute from the mismatch-free sums
cat "$tmp"/*.cmp | sed "s/= */=/g" | awk '/^flag/ { for (i=3;i<=NF;i++) { split($i, kv, "="); v[kv[1]]=kv[2] } tp=v["precision"]*v["ours"]; T[$2]+=v["tshark"]; O[$2]+=v["ours"]; TP[$2]+=tp }
END { for (k in T) { p=(O[k]?TP[k]/O[k]:0); r=(T[k]?TP[k]/T[k]:0); f=(p+r?2*p*r/(p+r):0); printf "flag  %-26s tshark=%6d ours=%6d f1=%.3f\n", k, T[k], O[k], f } }' | sort
