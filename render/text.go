package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// Text prints one line per TCP segment, in the spirit of tcpdump but with
// the analyzer's note at the end:
//
//	#3   0.000101  127.0.0.1:55920 → 127.0.0.1:7000  [ACK]  seq 1 ack 1 len 0 win 65536  ▸ handshake 3/3: connection established in 41 µs
type Text struct {
	W        io.Writer
	Theme    Theme
	Absolute bool      // print raw sequence numbers instead of relative ones (tcpdump -S)
	Start    time.Time // time 0 for the relative-time column (the first frame)
}

// Segment prints one analyzed TCP segment. r may be nil (no analysis).
func (t *Text) Segment(m frame.Meta, p *decode.Packet, r *analysis.Result) error {
	var b strings.Builder
	th := t.Theme
	fmt.Fprintf(&b, "%s %s  ", th.Dim(pad("#"+strconv.Itoa(m.Number), 6)), th.Dim(RelTime(m.Time, t.Start)))
	if p.TCP == nil {
		b.WriteString(th.Addr(p.Src.String()) + " → " + th.Addr(p.Dst.String()) + "  " + th.Warn("TCP header cut short by the snaplen ("+strconv.Itoa(len(p.TCPPartial))+" of 20 bytes captured)"))
		b.WriteByte('\n')
		_, err := io.WriteString(t.W, b.String())
		return err
	}
	src, dst := p.SrcAddrPort().String(), p.DstAddrPort().String()
	b.WriteString(th.Addr(src) + " → " + th.Addr(dst) + "  ")
	b.WriteString(th.Flags("[" + strings.Join(FlagNames(p.TCP.Flags()), ",") + "]"))
	seq, ack := p.TCP.Seq(), p.TCP.Ack()
	win := uint32(p.TCP.Window())
	if r != nil && !t.Absolute {
		seq, ack, win = r.Seq, r.Ack, r.Win
	}
	fmt.Fprintf(&b, "  seq %d", seq)
	if p.TCP.Has(decode.FlagACK) {
		fmt.Fprintf(&b, " ack %d", ack)
	}
	fmt.Fprintf(&b, " len %d win %d", p.PayloadLen, win)
	if o := OptionsShort(p); o != "" {
		b.WriteString("  " + th.Dim("<"+o+">"))
	}
	if p.Options.Malformed != "" {
		b.WriteString("  " + th.Warn("malformed "+p.Options.Malformed))
	}
	if p.TCPChecksum == decode.ChecksumBad {
		b.WriteString("  " + th.Warn("bad checksum"))
	}
	if r != nil && r.Note != "" {
		b.WriteString("  " + SeverityColor(th, r.Severity, "▸ "+r.Note))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.W, b.String())
	return err
}

// Problem prints a frame that could not be decoded, with the reason.
func (t *Text) Problem(m frame.Meta, err error) error {
	_, werr := fmt.Fprintf(t.W, "%s %s  %s\n", t.Theme.Dim(pad("#"+strconv.Itoa(m.Number), 6)),
		t.Theme.Dim(RelTime(m.Time, t.Start)), t.Theme.Warn("frame "+strconv.Itoa(m.Number)+": "+err.Error()))
	return werr
}

// SeverityColor colours s by a Wireshark expert level: chat green, note
// yellow, warn and error red.
func SeverityColor(th Theme, s analysis.Severity, text string) string {
	switch s {
	case analysis.SeverityChat:
		return th.Chat(text)
	case analysis.SeverityNote:
		return th.Note(text)
	case analysis.SeverityWarn:
		return th.Warn(text)
	case analysis.SeverityError:
		return th.Error(text)
	}
	return text
}

// RelTime formats the time since start as seconds with microseconds.
func RelTime(t, start time.Time) string {
	d := t.Sub(start)
	return pad(strconv.FormatFloat(d.Seconds(), 'f', 6, 64), 10)
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// FlagNames lists the set TCP flags, most significant first (CWR … FIN).
func FlagNames(f uint8) []string {
	var out []string
	for i := 0; i < 8; i++ {
		if f&(0x80>>i) != 0 {
			out = append(out, decode.FlagName(i))
		}
	}
	if len(out) == 0 {
		out = []string{"none"}
	}
	return out
}

// OptionsShort lists the TCP options in tcpdump's short form:
// "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7".
func OptionsShort(p *decode.Packet) string {
	it := decode.NewOptionIter(p.TCP)
	var parts []string
	for it.Next() {
		o := it.Option()
		switch o.Kind {
		case decode.OptEOL:
			parts = append(parts, "eol")
		case decode.OptNOP:
			parts = append(parts, "nop")
		case decode.OptMSS:
			parts = append(parts, "mss "+strconv.Itoa(int(decode.Ntohs(o.Data))))
		case decode.OptWScale:
			parts = append(parts, "wscale "+strconv.Itoa(int(o.Data[0])))
		case decode.OptSACKPerm:
			parts = append(parts, "sackOK")
		case decode.OptSACK:
			var s []string
			for i := 0; i+8 <= len(o.Data); i += 8 {
				s = append(s, strconv.FormatUint(uint64(decode.Ntohl(o.Data[i:])), 10)+":"+strconv.FormatUint(uint64(decode.Ntohl(o.Data[i+4:])), 10))
			}
			parts = append(parts, "sack "+strings.Join(s, " "))
		case decode.OptTimestamp:
			parts = append(parts, "TS val "+strconv.FormatUint(uint64(decode.Ntohl(o.Data)), 10)+" ecr "+strconv.FormatUint(uint64(decode.Ntohl(o.Data[4:])), 10))
		case decode.OptMD5:
			parts = append(parts, "md5")
		case decode.OptMPTCP:
			parts = append(parts, "mptcp")
		case decode.OptFastOpen:
			parts = append(parts, "tfo")
		default:
			parts = append(parts, "opt-"+strconv.Itoa(int(o.Kind)))
		}
	}
	return strings.Join(parts, ",")
}
