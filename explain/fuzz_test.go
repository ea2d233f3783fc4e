package explain

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/render"
)

// FuzzExplain feeds random frame bytes, under every link type, through
// decode and explain: whatever decode makes of them, building the
// explanation and rendering it as text and JSON must not panic.
func FuzzExplain(f *testing.F) {
	f.Add(dataTSSACK(f).Data, uint16(frame.LinkEthernet), 0)
	f.Add([]byte{0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 80, 0, 81, 0, 0, 0, 1, 0, 0, 0, 0, 0xf0, 2, 0, 0, 0, 0, 0, 0}, uint16(frame.LinkRaw), 0)
	f.Add([]byte{2, 0, 0, 0, 0x60, 0, 0, 0, 0, 8, 44, 64}, uint16(frame.LinkNull), 10)
	f.Fuzz(func(t *testing.T, data []byte, link uint16, extra int) {
		if extra < 0 || extra > 1<<16 {
			extra = 0
		}
		fr := frame.Frame{Data: data, Meta: frame.Meta{Number: 1, CapLen: len(data), OrigLen: len(data) + extra, Link: frame.LinkType(link)}}
		var p decode.Packet
		err := decode.Decode(fr, &p)
		for _, reassembled := range []bool{false, true} {
			e := Build(Meta{Frame: fr, Stream: 0, Reassembled: reassembled, DecodeErr: err}, &p, binary.BigEndian)
			if err := WriteText(io.Discard, e, TextOptions{Theme: render.NewTheme(true), MaxPayload: -1}); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(io.Discard, e); err != nil {
				t.Fatal(err)
			}
		}
	})
}
