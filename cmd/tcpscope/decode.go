package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/explain"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
)

func decodeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "decode",
		Usage:     "take one TCP packet apart field by field: offsets, raw bytes, ntohs/ntohl, meaning",
		ArgsUsage: "FILE",
		Description: `Shows a TCP frame the way a textbook would: for every field of the link,
IPv4 or IPv6 and TCP headers, its byte offset in the frame, its width, the
raw bytes in network order (big-endian), the host-order value with the
conversion that produced it, e.g.

   ntohs(1f 90) = 8080

what a program that forgot ntohs/ntohl would read on this host (the "no ntoh"
column: 36895 for those bytes on a little-endian CPU), and what the value
means: flag bits, data offset and IHL × 4, TTL, DF/MF and fragment offset,
each TCP option (MSS, window scale, SACK, timestamps…), checksums verified.
Then the RFC-style header diagrams filled with this packet's values, and
the payload as hex and ASCII.

Without --frame or --stream it shows the first TCP frame of the file.
Frame numbers are 1-based, as in Wireshark and 'tcpscope replay'; streams
are numbered from 0, as Wireshark's tcp.stream.

Examples:
   tcpscope decode pcaps/tcpdump-print-flags.pcap
   tcpscope decode pcaps/tcpdump-ssh.pcap --frame 9
   tcpscope decode pcaps/tcpdump-print-flags.pcap --stream 0 | less -R
   tcpscope decode capture.pcap --frame 4 --json | jq '.layers[] | select(.key=="tcp") | .fields[] | {key, raw, value}'`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "frame", Aliases: []string{"f"}, Usage: "show frame `N` (1-based, as Wireshark numbers them)"},
			&cli.IntFlag{Name: "stream", Value: -1, Usage: "show every frame of TCP connection `S` (numbered from 0, as Wireshark's tcp.stream)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per frame (the same fields, with stable key names)"},
			&cli.IntFlag{Name: "payload-bytes", Value: explain.DefaultMaxPayload, Usage: "dump at most `N` payload bytes in the text view (-1: all)"},
			colorFlag(),
		},
		Action: stoppable(func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("decode needs exactly one capture file (or - for stdin); see 'tcpscope decode --help'")
			}
			frameN, stream := c.Int("frame"), c.Int("stream")
			if c.IsSet("frame") && frameN < 1 {
				return usageError("--frame %d: frames are numbered from 1", frameN)
			}
			if c.IsSet("stream") && stream < 0 {
				return usageError("--stream %d: streams are numbered from 0", stream)
			}
			if c.IsSet("frame") && c.IsSet("stream") {
				return usageError("use --frame or --stream, not both")
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			path := c.Args().First()
			src, err := replay.OpenContext(c.Context, path, e.stdin)
			if err != nil {
				return runtimeError(err)
			}
			defer src.Close()
			d := decoder{path: path, json: c.Bool("json"), stdout: e.stdout,
				text: explain.TextOptions{Theme: render.NewTheme(col), MaxPayload: c.Int("payload-bytes")}}
			switch {
			case c.IsSet("frame"):
				err = d.frame(pipeline.New(src, analysis.New(analysis.Options{})), frameN)
			case stream >= 0:
				err = d.stream(pipeline.New(src, analysis.New(analysis.Options{})), stream)
			default:
				var n int
				n, err = d.first(pipeline.New(src, analysis.New(analysis.Options{})))
				if err == nil {
					fmt.Fprintf(e.stderr, "tcpscope: showed frame %d, the first TCP frame of %s; pick another with --frame N, or a whole connection with --stream S\n", n, path)
				}
			}
			if err != nil {
				return runtimeError(err)
			}
			return nil
		}),
	}
}

// decoder prints explanations of the frames a decode command selects.
type decoder struct {
	path   string
	json   bool
	text   explain.TextOptions
	stdout io.Writer
	shown  int
}

// isTCP reports whether the item carries a TCP header, even one cut short
// or quoted in an ICMP error.
func isTCP(it *pipeline.Item) bool {
	return it.Packet.TCP != nil || len(it.Packet.TCPPartial) > 0 || it.Packet.HasICMP
}

func (d *decoder) show(it *pipeline.Item) error {
	e := explain.Build(explain.MetaOf(it), &it.Packet, nil)
	d.shown++
	if d.json {
		return explain.WriteJSON(d.stdout, e)
	}
	if d.shown > 1 {
		if _, err := io.WriteString(d.stdout, "\n"+d.text.Theme.Dim("════════════════════════════════════════════════════════════════════════")+"\n\n"); err != nil {
			return err
		}
	}
	return explain.WriteText(d.stdout, e, d.text)
}

// next reads one item; io.EOF ends the file, other errors name it.
func (d *decoder) next(pl *pipeline.Pipeline, it *pipeline.Item) error {
	err := pl.Next(it)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", d.path, err)
	}
	return err
}

func (d *decoder) frame(pl *pipeline.Pipeline, n int) error {
	var it pipeline.Item
	count := 0
	for {
		if err := d.next(pl, &it); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("frame %d does not exist: %s has %d frames", n, d.path, count)
			}
			return err
		}
		count++
		if it.Frame.Meta.Number != n {
			continue
		}
		if !isTCP(&it) {
			return fmt.Errorf("frame %d of %s is not TCP (%s); 'tcpscope replay %s' lists the TCP frames", n, d.path, notTCP(&it), d.path)
		}
		return d.show(&it)
	}
}

// notTCP says what a frame is instead of TCP, in a few words.
func notTCP(it *pipeline.Item) string {
	p := &it.Packet
	switch {
	case it.DecodeErr != nil:
		return "decode: " + it.DecodeErr.Error()
	case p.Fragment:
		return "an IP fragment without the TCP header"
	case p.IPVersion != 0:
		return fmt.Sprintf("IPv%d protocol %d", p.IPVersion, p.Proto)
	}
	return fmt.Sprintf("EtherType 0x%04x, not IP", p.Link.EtherType)
}

func (d *decoder) stream(pl *pipeline.Pipeline, s int) error {
	var it pipeline.Item
	streams := 0
	for {
		if err := d.next(pl, &it); err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			if d.shown == 0 {
				return fmt.Errorf("stream %d does not exist: %s has %d TCP streams (0–%d)", s, d.path, streams, streams-1)
			}
			return nil
		}
		if !it.Analyzed && !it.Located {
			continue
		}
		streams = max(streams, it.Result.Stream+1)
		if it.Result.Stream == s {
			if err := d.show(&it); err != nil {
				return err
			}
		}
	}
}

func (d *decoder) first(pl *pipeline.Pipeline) (int, error) {
	var it pipeline.Item
	for {
		if err := d.next(pl, &it); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("%s holds no TCP frame", d.path)
			}
			return 0, err
		}
		if isTCP(&it) {
			return it.Frame.Meta.Number, d.show(&it)
		}
	}
}
