package main

import (
	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/render"
)

// tcpdumpFlags are the habits users bring from tcpdump, accepted by replay
// and capture with tcpdump's meaning. -n and -nn are accepted and do
// nothing: tcpscope never resolves names or ports.
func tcpdumpFlags() []cli.Flag {
	fs := []cli.Flag{
		&cli.BoolFlag{Name: "n", Usage: "accepted for tcpdump users: tcpscope never resolves addresses or ports (also -nn)"},
		&cli.BoolFlag{Name: "nn", Hidden: true},
		&cli.BoolFlag{Name: "t", Usage: "time column as tcpdump: -t none, -tt seconds since 1970, -ttt since the previous line, -tttt date and time, -ttttt since the first frame (the default)"},
		&cli.BoolFlag{Name: "hex", Aliases: []string{"X"}, Usage: "under each segment, its payload in hex and ASCII (as tcpdump -X)"},
		&cli.BoolFlag{Name: "payload-ascii", Aliases: []string{"A"}, Usage: "under each segment, its payload in ASCII (as tcpdump -A; --ascii is about tcpscope's own arrows)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "under each segment, the IP header's TTL, ID, length and flags, the TCP checksum and options (as tcpdump -v; also -vv, -vvv)"},
		&cli.BoolFlag{Name: "vv", Hidden: true},
		&cli.BoolFlag{Name: "vvv", Hidden: true},
		&cli.BoolFlag{Name: "link-header", Aliases: []string{"e"}, Usage: "under each segment, the link-layer header: MAC addresses and EtherType (as tcpdump -e)"},
	}
	for _, n := range []string{"tt", "ttt", "tttt", "ttttt"} {
		fs = append(fs, &cli.BoolFlag{Name: n, Hidden: true})
	}
	return fs
}

// applyTcpdumpFlags sets the options tcpdumpFlags select. The most t's win,
// as when tcpdump is given several.
func applyTcpdumpFlags(c *cli.Context, o *showOptions) error {
	ts := 0
	for i, n := range []string{"t", "tt", "ttt", "tttt", "ttttt"} {
		if c.Bool(n) {
			ts = i + 1
		}
	}
	o.Time = render.TimeFormatFromTs(ts)
	o.HexASCII = c.Bool("hex")
	o.ASCII = c.Bool("payload-ascii")
	o.Verbose = c.Bool("verbose") || c.Bool("vv") || c.Bool("vvv")
	o.LinkHead = c.Bool("link-header")
	if o.HexASCII && o.ASCII {
		return usageError("-X and -A cannot be combined: -X already shows the payload as ASCII beside the hex")
	}
	if o.JSON && (ts > 0 || o.HexASCII || o.ASCII || o.Verbose || o.LinkHead) {
		return usageError("-t…, -X, -A, -v and -e change the text lines; --json lines carry those fields already (docs/packet-json.md)")
	}
	return nil
}
