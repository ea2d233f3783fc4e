#!/bin/sh
# Makes docs/view.png, the README's picture of tcpscope view: a real run in
# a 120x40 tmux terminal (frame 28 of pcaps/lo-bulk-loss.pcap, a fast
# retransmission, its sequence number's bytes lit), captured with its
# colours, turned into HTML and rendered by headless Chromium.
# Needs tmux, python3 and chromium (apt-get install -y chromium).
set -eu
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'tmux -S "$TMP/s" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
go build -o "$TMP/tcpscope" ./cmd/tcpscope
tmux -S "$TMP/s" -f /dev/null new-session -d -x 120 -y 40 -e TERM=xterm-256color \
	"$TMP/tcpscope view pcaps/lo-bulk-loss.pcap; sleep 30"
sleep 1
tmux -S "$TMP/s" send-keys -t 0 : 28 Enter Tab j j j Enter
sleep 0.5
tmux -S "$TMP/s" capture-pane -p -e -t 0 >"$TMP/screen.txt"
python3 scripts/screen2html.py <"$TMP/screen.txt" >"$TMP/screen.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1040,690 --screenshot="$TMP/view.png" "file://$TMP/screen.html" >/dev/null 2>&1
cp "$TMP/view.png" docs/view.png
echo "wrote docs/view.png"
