#!/bin/bash
# Make tcpscope's real kernel-TCP test captures (pcaps/lo-*.pcap, pcaps/lo-mixed.pcapng).
#
# Each scenario runs in its own, freshly created network namespace and uses only that
# namespace's loopback (127.0.0.1 / ::1). tcpdump writes the capture; nftables inside the
# namespace drops packets at random to make loss. Peers are pcaps/gen/peer.py.
#
# Usage (as root):  pcaps/gen/make-captures.sh [SCENARIO...]
#   scenarios: bulk-loss short-conns-loss zero-window keepalive reset ipv6-loss mixed
#   (default: all). Output goes to pcaps/ (override with OUT=dir).
# Needs: iproute2 (ip, ss), tcpdump, nftables (nft), python3, editcap (tshark package),
# taskset and timeout (util-linux, coreutils).
#
# Idempotent: every capture is rebuilt from scratch and replaces the previous file only
# when its scenario finished. Namespaces, processes and temporary files are removed on
# exit, on failure and on Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$(cd "$HERE/.." && pwd)}
PY=${PYTHON:-/usr/bin/python3}
PEER=$HERE/peer.py
TAG=tcpscope-cap-$$
WORK=$(mktemp -d "/tmp/$TAG.XXXXXX")
NSES=()
TCPDUMP_PID=
BG_PIDS=()
# PIN=(taskset -c 0) runs both peers on one CPU, so loopback packets go through one backlog
# queue: without loss they then arrive in order. Unpinned peers on several CPUs can reorder
# segments on loopback. (During loss recovery some segments are sent from timers that may
# run on another CPU, so the loss captures still show a little real reordering.)
PIN=()

log() { printf '[make-captures] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cleanup() {
	local rc=$? ns pid
	set +e
	trap - EXIT INT TERM
	if [ -n "$TCPDUMP_PID" ]; then
		kill -INT "$TCPDUMP_PID" 2>/dev/null
		wait "$TCPDUMP_PID" 2>/dev/null
	fi
	for pid in "${BG_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${NSES[@]}"; do
		# anything still running inside one of our namespaces was started by us
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tcpdump, nft)"
for t in ip ss tcpdump nft editcap taskset timeout "$PY"; do
	command -v "$t" >/dev/null || die "missing tool: $t"
done

# --- helpers ---------------------------------------------------------------------------

# ns_new NAME [MTU [GSO_SEGS]]: fresh namespace with lo up. MTU 1500 with gso_max_segs 1
# makes the kernel send wire-sized segments instead of 64 KiB GSO super-packets.
ns_new() {
	local ns=$TAG-$1
	ip netns add "$ns"
	NSES+=("$ns")
	if [ -n "${2:-}" ]; then ip netns exec "$ns" ip link set lo mtu "$2"; fi
	if [ -n "${3:-}" ]; then ip netns exec "$ns" ip link set lo gso_max_segs "$3"; fi
	ip netns exec "$ns" ip link set lo up
	NS=$ns
}

ns_del() {
	local ns=$1 pid i
	for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
	ip netns del "$ns"
	for i in "${!NSES[@]}"; do [ "${NSES[$i]}" = "$ns" ] && unset "NSES[$i]"; done
	NSES=("${NSES[@]}")
}

inns() { ip netns exec "$NS" "$@"; }

# loss HOOK RULE-MATCH PERCENT: drop PERCENT % of the matching packets (random) in HOOK.
# HOOK input: tcpdump on lo has already seen the packet (it shows the original and the
# retransmission). HOOK output: the packet never reaches lo, so it is missing from the capture.
loss() {
	local hook=$1 match=$2 pct=$3
	inns nft list table inet loss >/dev/null 2>&1 || inns nft add table inet loss
	inns nft list chain inet loss "$hook" >/dev/null 2>&1 ||
		inns nft "add chain inet loss $hook { type filter hook $hook priority 0; }"
	# numgen random mod 100 < pct
	inns nft "add rule inet loss $hook $match numgen random mod 100 < $pct counter drop"
}

loss_report() {
	inns nft list table inet loss 2>/dev/null | grep -o '.*counter packets [0-9]* bytes [0-9]*' |
		sed 's/^[[:space:]]*/    nft: /' >&2 || true
}

# cap_start FILE FILTER: start tcpdump on lo in $NS and wait until it listens
cap_start() {
	local file=$1 filter=$2 i
	: >"$WORK/tcpdump.err"
	ip netns exec "$NS" tcpdump -i lo -s 0 -U -B 32768 -Z root -w "$file" "$filter" 2>"$WORK/tcpdump.err" &
	TCPDUMP_PID=$!
	for i in $(seq 100); do
		grep -q 'listening on' "$WORK/tcpdump.err" && break
		kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump failed: $(cat "$WORK/tcpdump.err")"
		sleep 0.05
	done
	grep -q 'listening on' "$WORK/tcpdump.err" || die "tcpdump did not start"
	sleep 0.2
}

# cap_stop: SIGINT tcpdump and wait until it has exited (and flushed the file).
# libpcap's TPACKET_V3 ring hands packets over in blocks, a block at the latest after the
# 1 s timeout: wait longer than that, or the last packets are lost at SIGINT.
# (--immediate-mode avoids this but switches to a ring with few, huge slots that drops
# packets during bulk transfers.)
cap_stop() {
	sleep 2
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	TCPDUMP_PID=
	grep -E 'captured|dropped' "$WORK/tcpdump.err" | sed 's/^/    tcpdump: /' >&2 || true
}

# server ROLE HOST PORT ARGS...: start a peer server in the background, wait until it listens
server() {
	local port=$3 i
	timeout 180 ip netns exec "$NS" "${PIN[@]}" "$PY" "$PEER" "$@" &
	BG_PIDS+=($!)
	for i in $(seq 100); do
		[ -n "$(inns ss -Hltn "sport = :$port")" ] && return 0
		sleep 0.05
	done
	die "server $1 did not start listening on port $port"
}

# client ROLE HOST PORT ARGS...: run a peer client and wait for it (bounded). It runs in
# the background so that a signal to this script is handled at once, not after the client.
client() {
	local pid rc=0
	timeout 180 ip netns exec "$NS" "${PIN[@]}" "$PY" "$PEER" "$@" &
	pid=$!
	BG_PIDS+=($pid)
	wait "$pid" || rc=$?
	BG_PIDS=("${BG_PIDS[@]/$pid/}")
	return $rc
}

# wait_servers: wait for the background peers (they end by themselves)
wait_servers() {
	local pid rc=0
	for pid in "${BG_PIDS[@]}"; do [ -z "$pid" ] || wait "$pid" || rc=$?; done
	BG_PIDS=()
	return $rc
}

# publish NAME: move the finished capture from the work directory into OUT
publish() {
	install -m 0644 "$WORK/$1" "$OUT/$1"
	log "wrote $OUT/$1 ($(stat -c %s "$OUT/$1") bytes)"
}

# --- scenarios -------------------------------------------------------------------------

# 1. IPv4 bulk transfer, 1 MiB, 5 % random drops in each direction (on input).
sc_bulk_loss() {
	local PIN=(taskset -c 0)
	local f=lo-bulk-loss.pcap p=21000
	log "$f"
	ns_new bulk 1500 1
	loss input "tcp dport $p" 5
	loss input "tcp sport $p" 5
	cap_start "$WORK/$f" "tcp port $p"
	server bulk-server 127.0.0.1 $p
	client bulk-client 127.0.0.1 $p 1048576
	wait_servers
	cap_stop
	loss_report
	ns_del "$NS"
	publish $f
}

# 2. 80 short request/response connections, 5 % drops in both directions; the last 30
#    connections come from 3 fixed source ports (port reuse while the server is in TIME_WAIT).
sc_short_conns_loss() {
	local PIN=(taskset -c 0)
	local f=lo-short-conns-loss.pcap p=22000 n=80
	log "$f"
	ns_new short 1500 1
	loss input "tcp dport $p" 5
	loss input "tcp sport $p" 5
	cap_start "$WORK/$f" "tcp port $p"
	server rr-server 127.0.0.1 $p $n
	client rr-client 127.0.0.1 $p $n 30
	wait_servers
	cap_stop
	loss_report
	ns_del "$NS"
	publish $f
}

# 3. Zero window: receiver with SO_RCVBUF 4096 stops reading for 2 s while the sender sends.
sc_zero_window() {
	local PIN=(taskset -c 0)
	local f=lo-zero-window.pcap p=23000
	log "$f"
	ns_new zw 1500 1
	cap_start "$WORK/$f" "tcp port $p"
	server zw-server 127.0.0.1 $p 2
	client zw-client 127.0.0.1 $p 200000
	wait_servers
	cap_stop
	ns_del "$NS"
	publish $f
}

# 4. Keep-alive: idle connection, SO_KEEPALIVE with TCP_KEEPIDLE=1, TCP_KEEPINTVL=1, 4.5 s idle.
sc_keepalive() {
	local PIN=(taskset -c 0)
	local f=lo-keepalive.pcap p=24000
	log "$f"
	ns_new ka
	cap_start "$WORK/$f" "tcp port $p"
	server ka-server 127.0.0.1 $p
	client ka-client 127.0.0.1 $p 4.5
	wait_servers
	cap_stop
	ns_del "$NS"
	publish $f
}

# 5. Resets: refused connection (closed port), SO_LINGER {1,0} abort, close with unread
#    data, data sent to a closed socket.
sc_reset() {
	local PIN=(taskset -c 0)
	local f=lo-reset.pcap p=25000 closed=25001
	log "$f"
	ns_new rst
	cap_start "$WORK/$f" "tcp portrange $p-$closed"
	server rst-server 127.0.0.1 $p
	client rst-client 127.0.0.1 $p $closed
	wait_servers
	cap_stop
	ns_del "$NS"
	publish $f
}

# 6. IPv6 bulk transfer, 768 KiB, 4 % random drops in each direction (on input).
#    (Drops in the output hook are no loss at all: the kernel reports EPERM to TCP, which
#    simply sends the segment again later, so nothing shows in the capture.)
sc_ipv6_loss() {
	local PIN=(taskset -c 0)
	local f=lo-ipv6-loss.pcap p=26000
	log "$f"
	ns_new v6 1500 1
	loss input "tcp dport $p" 4
	loss input "tcp sport $p" 4
	cap_start "$WORK/$f" "tcp port $p"
	server bulk-server ::1 $p
	client bulk-client ::1 $p 786432
	wait_servers
	cap_stop
	loss_report
	ns_del "$NS"
	publish $f
}

# 7. Mixed, written as pcapng: default loopback MTU (64 KiB GSO segments), IPv4 and IPv6,
#    a bulk transfer and short connections with 8 % loss, and the reset cases (no loss). The peers are
#    not pinned to one CPU, so loopback may also reorder segments.
sc_mixed() {
	local f=lo-mixed.pcapng p=27000
	log "$f"
	ns_new mixed
	loss input "tcp dport $p-$((p + 1))" 8
	loss input "tcp sport $p-$((p + 1))" 8
	cap_start "$WORK/mixed.pcap" "tcp portrange $p-$((p + 3))"
	server bulk-server 127.0.0.1 $p
	client bulk-client 127.0.0.1 $p 1048576
	wait_servers
	server rr-server ::1 $((p + 1)) 20
	client rr-client ::1 $((p + 1)) 20 5
	wait_servers
	server rst-server ::1 $((p + 2))
	client rst-client ::1 $((p + 2)) $((p + 3))
	wait_servers
	cap_stop
	loss_report
	ns_del "$NS"
	editcap -F pcapng "$WORK/mixed.pcap" "$WORK/$f"
	publish $f
}

ALL=(bulk-loss short-conns-loss zero-window keepalive reset ipv6-loss mixed)
[ $# -gt 0 ] || set -- "${ALL[@]}"
for s in "$@"; do
	case $s in
	bulk-loss) sc_bulk_loss ;;
	short-conns-loss) sc_short_conns_loss ;;
	zero-window) sc_zero_window ;;
	keepalive) sc_keepalive ;;
	reset) sc_reset ;;
	ipv6-loss) sc_ipv6_loss ;;
	mixed) sc_mixed ;;
	*) die "unknown scenario: $s (known: ${ALL[*]})" ;;
	esac
done
log "done"
