#!/bin/sh
# Regenerate tshark's expectations for every capture in pcaps/ (run from the repo root
# or from anywhere: paths are relative to this script). Captures tshark cannot read are
# listed in UNREADABLE instead of getting a .jsonl file.
set -u
here=$(cd "$(dirname "$0")" && pwd)
oracle=${TSHARK_ORACLE:-$here/../../scripts/tshark-oracle}
cd "$here/.."
tshark --version | head -1 > tshark/VERSION
: > tshark/UNREADABLE
for f in *.pcap *.pcapng; do
	[ -e "$f" ] || continue
	if "$oracle" expect "$f" > "tshark/$f.jsonl.tmp" 2> "tshark/$f.err"; then
		mv "tshark/$f.jsonl.tmp" "tshark/$f.jsonl"
		rm -f "tshark/$f.err"
	else
		rm -f "tshark/$f.jsonl.tmp" "tshark/$f.jsonl"
		rm -f "tshark/$f.err"
		echo "$f: $(tshark -n -r "$f" 2>&1 >/dev/null | grep -v dangerous | tr '\n' ' ')" >> tshark/UNREADABLE
	fi
done
