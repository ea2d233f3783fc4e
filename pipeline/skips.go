package pipeline

import (
	"strconv"

	"github.com/tcpscope/tcpscope/decode"
)

// Skips counts the frames decode did not follow to a TCP segment, by reason
// (decode.Packet.Skipped): a tunnel nested too deep, an encrypted or
// unknown payload. A command says so once, at the end, instead of leaving
// such frames out in silence.
type Skips struct {
	n     [decode.NumSkips]int
	first [decode.NumSkips]int // frame number of the first of each
}

// Add counts the frame if decode skipped it.
func (s *Skips) Add(frameNo int, p *decode.Packet) {
	if r := p.Skipped; r != decode.SkipNone && r < decode.NumSkips {
		if s.n[r] == 0 {
			s.first[r] = frameNo
		}
		s.n[r]++
	}
}

// Line says what was skipped, in one line ("" when nothing was), e.g.
// "3 frames not decoded to TCP: 2 IPsec ESP packets (encrypted, first #4); 1 …".
func (s *Skips) Line() string {
	total := 0
	for _, n := range s.n {
		total += n
	}
	if total == 0 {
		return ""
	}
	b := strconv.AppendInt(nil, int64(total), 10)
	if total == 1 {
		b = append(b, " frame not decoded to TCP: "...)
	} else {
		b = append(b, " frames not decoded to TCP: "...)
	}
	sep := false
	for r := decode.Skip(1); r < decode.NumSkips; r++ {
		if s.n[r] == 0 {
			continue
		}
		if sep {
			b = append(b, "; "...)
		}
		sep = true
		b = strconv.AppendInt(b, int64(s.n[r]), 10)
		b = append(b, ' ')
		b = append(b, r.String()...)
		b = append(b, " (first: frame "...)
		b = strconv.AppendInt(b, int64(s.first[r]), 10)
		b = append(b, ')')
	}
	return string(b)
}
