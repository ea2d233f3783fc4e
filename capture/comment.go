package capture

import (
	"encoding/binary"

	"github.com/tcpscope/tcpscope/frame"
)

// pcapng Enhanced Packet Block (pcapng spec, section 4.3), written in the
// host's little-endian order as gopacket's NgWriter writes the rest of the
// file:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+---------------------------------------------------------------+
//	|                    Block Type = 0x00000006                    |  0
//	|                      Block Total Length                       |  4
//	|                         Interface ID                          |  8
//	|                        Timestamp (High)                       | 12
//	|                        Timestamp (Low)                        | 16
//	|                    Captured Packet Length                     | 20
//	|                    Original Packet Length                     | 24
//	/                          Packet Data (padded to 32 bits)      / 28
//	/                      Options: opt_comment, opt_endofopt       /
//	|                      Block Total Length                       |
//	+---------------------------------------------------------------+
//
// gopacket's NgWriter (v1.1.19) has no way to attach options to a packet,
// so a frame with a comment is written here; the timestamp unit is the
// interface's, nanoseconds (if_tsresol 9), as NewWriter declares it.
const (
	epbType        = 6
	epbFixed       = 28 // up to the packet data
	optComment     = 1
	optEndOfOpt    = 0
	maxCommentSize = 0xFFFF
)

func pad4(n int) int { return (n + 3) &^ 3 }

// appendEPB appends an Enhanced Packet Block for f with comment as its
// opt_comment to b.
func appendEPB(b []byte, f frame.Frame, comment string) []byte {
	if len(comment) > maxCommentSize {
		comment = comment[:maxCommentSize]
	}
	total := epbFixed + pad4(len(f.Data)) + 4 + pad4(len(comment)) + 4 + 4
	le := binary.LittleEndian
	ns := uint64(f.Meta.Time.UnixNano())
	orig := f.Meta.OrigLen
	if orig < len(f.Data) {
		orig = len(f.Data)
	}
	b = le.AppendUint32(b, epbType)
	b = le.AppendUint32(b, uint32(total))
	b = le.AppendUint32(b, 0) // the one interface NewWriter declares
	b = le.AppendUint32(b, uint32(ns>>32))
	b = le.AppendUint32(b, uint32(ns))
	b = le.AppendUint32(b, uint32(len(f.Data)))
	b = le.AppendUint32(b, uint32(orig))
	b = append(b, f.Data...)
	b = append(b, make([]byte, pad4(len(f.Data))-len(f.Data))...)
	b = le.AppendUint16(b, optComment)
	b = le.AppendUint16(b, uint16(len(comment)))
	b = append(b, comment...)
	b = append(b, make([]byte, pad4(len(comment))-len(comment))...)
	b = le.AppendUint16(b, optEndOfOpt)
	b = le.AppendUint16(b, 0)
	return le.AppendUint32(b, uint32(total))
}

// WriteCommented appends one frame with a comment, which Wireshark shows
// as the packet's comment (pkt_comment) and tshark prints with
// -e frame.comment. Only pcapng files hold comments: to a pcap file the
// frame is written without it.
func (w *Writer) WriteCommented(f frame.Frame, comment string) error {
	if w.ng == nil || comment == "" {
		return w.Write(f)
	}
	if w.err != nil {
		return w.err
	}
	w.scratch = appendEPB(w.scratch[:0], f, comment)
	w.rec.Write(w.scratch)
	if err := w.commit(1); err != nil {
		return w.fail(err)
	}
	return nil
}
