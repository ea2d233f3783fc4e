package render

import (
	"io"
	"strconv"
	"time"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/decimal"
)

// TimeFormat is how the time column is written. The default is the time
// since the first frame, as Wireshark's time column and tcpdump -ttttt;
// the others are tcpdump's -t, -tt, -ttt and -tttt, for users who bring
// those habits.
type TimeFormat int

const (
	TimeRelative TimeFormat = iota // seconds since the first frame (tcpdump -ttttt)
	TimeNone                       // no time column (tcpdump -t)
	TimeEpoch                      // seconds since 1970 (tcpdump -tt)
	TimeDelta                      // seconds since the previous line's frame (tcpdump -ttt)
	TimeDate                       // date and time of day, local time (tcpdump -tttt)
)

// TimeFormatFromTs maps tcpdump's count of t's (-t … -ttttt) to a format.
func TimeFormatFromTs(n int) TimeFormat {
	switch n {
	case 1:
		return TimeNone
	case 2:
		return TimeEpoch
	case 3:
		return TimeDelta
	case 4:
		return TimeDate
	}
	return TimeRelative
}

// appendTime writes the time column in format f. prev is the time of the
// previous line's frame (zero for the first).
func appendTime(b []byte, f TimeFormat, t, start, prev time.Time, rel *relClock) []byte {
	at := len(b)
	switch f {
	case TimeNone:
		return b
	case TimeEpoch:
		b = decimal.AppendInt(b, t.Unix())
		b = append(b, '.')
		b = appendFrac6(b, t.Nanosecond()/1000)
		return padTo(b, at, 17)
	case TimeDelta:
		if prev.IsZero() {
			prev = t
		}
		b = appendSeconds6(b, t.Sub(prev))
		return padTo(b, at, 10)
	case TimeDate:
		return t.Local().AppendFormat(b, "2006-01-02 15:04:05.000000")
	}
	return appendRelTime(b, t, start, rel)
}

// appendFrac6 appends n (0 ≤ n < 1e6) as six digits.
func appendFrac6(b []byte, n int) []byte { return decimal.AppendFixed(b, uint64(n), 6) }

// HexASCII writes data as tcpdump -X does: 16 bytes a line, offset, the
// bytes in groups of two, then the same bytes as ASCII ('.' for the rest).
func HexASCII(w io.Writer, data []byte) error {
	const hexd = "0123456789abcdef"
	var b []byte
	for off := 0; off < len(data); off += 16 {
		row := data[off:min(off+16, len(data))]
		b = append(b[:0], "\t0x"...)
		for s := 12; s >= 0; s -= 4 {
			b = append(b, hexd[off>>s&0xF])
		}
		b = append(b, ": "...)
		for i := 0; i < 16; i++ {
			if i%2 == 0 {
				b = append(b, ' ')
			}
			if i < len(row) {
				b = append(b, hexd[row[i]>>4], hexd[row[i]&0xF])
			} else {
				b = append(b, "  "...)
			}
		}
		b = append(b, "  "...)
		for _, c := range row {
			b = append(b, printable(c))
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// ASCII writes data as tcpdump -A does: printable characters and line
// breaks as they are, every other byte as '.'.
func ASCII(w io.Writer, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	b := make([]byte, 0, len(data)+1)
	for _, c := range data {
		switch c {
		case '\n':
			b = append(b, '\n')
		case '\r':
			// "\r\n" is one line break on the screen.
		default:
			b = append(b, printable(c))
		}
	}
	if b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

func printable(c byte) byte {
	if c >= 0x20 && c < 0x7F {
		return c
	}
	return '.'
}

// LinkLine writes the link-layer header of a frame under its line, as
// tcpdump -e shows it: for Ethernet the two MAC addresses and the
// EtherType; for other link types their name and header length.
func LinkLine(w io.Writer, m frame.Meta, data []byte, l decode.Link) error {
	b := []byte("\tlink: ")
	if m.Link == frame.LinkEthernet && len(data) >= 14 {
		b = appendMAC(b, data[6:12])
		b = append(b, " → "...)
		b = appendMAC(b, data[0:6])
		b = append(b, ", ethertype "...)
		b = append(b, etherTypeName(l.EtherType)...)
		b = append(b, " (0x"...)
		b = appendHex4(b, l.EtherType)
		b = append(b, ')')
		if l.VLANs > 0 {
			b = append(b, ", vlan "...)
			b = decimal.AppendUint(b, uint64(l.VLANID))
		}
	} else {
		b = append(b, m.Link.String()...)
		b = append(b, ", header "...)
		b = decimal.AppendInt(b, int64(l.HeaderLen))
		b = append(b, " bytes"...)
	}
	b = append(b, ", length "...)
	b = decimal.AppendInt(b, int64(m.OrigLen))
	b = append(b, '\n')
	_, err := w.Write(b)
	return err
}

func appendMAC(b, mac []byte) []byte {
	const hexd = "0123456789abcdef"
	for i, c := range mac {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexd[c>>4], hexd[c&0xF])
	}
	return b
}

func appendHex4(b []byte, v uint16) []byte {
	const hexd = "0123456789abcdef"
	return append(b, hexd[v>>12], hexd[v>>8&0xF], hexd[v>>4&0xF], hexd[v&0xF])
}

func etherTypeName(t uint16) string {
	switch t {
	case decode.EtherTypeIPv4:
		return "IPv4"
	case decode.EtherTypeIPv6:
		return "IPv6"
	}
	return "unknown"
}

// VerboseLine writes the IP header's fields and the TCP checksum and
// options under a segment's line, as tcpdump -v adds them.
func VerboseLine(w io.Writer, p *decode.Packet) error {
	b := []byte("\t")
	switch p.IPVersion {
	case 4:
		ip := p.IPv4
		b = append(b, "IPv4 ttl "...)
		b = decimal.AppendUint(b, uint64(ip.TTL()))
		b = append(b, ", id "...)
		b = decimal.AppendUint(b, uint64(ip.ID()))
		b = append(b, ", length "...)
		b = decimal.AppendUint(b, uint64(ip.TotalLen()))
		if ip.DF() {
			b = append(b, ", DF"...)
		}
	case 6:
		ip := p.IPv6
		b = append(b, "IPv6 hlim "...)
		b = decimal.AppendUint(b, uint64(ip.HopLimit()))
		b = append(b, ", flow 0x"...)
		b = strconv.AppendUint(b, uint64(ip.FlowLabel()), 16)
		b = append(b, ", payload length "...)
		b = decimal.AppendUint(b, uint64(ip.PayloadLen()))
	}
	if p.TCP != nil {
		b = append(b, "; TCP checksum "...)
		b = append(b, p.TCPChecksum.String()...)
		at := len(b)
		b = AppendOptionsShort(append(b, ", options <"...), p)
		if len(b) == at+len(", options <") {
			b = b[:at]
		} else {
			b = append(b, '>')
		}
	}
	b = append(b, '\n')
	_, err := w.Write(b)
	return err
}
