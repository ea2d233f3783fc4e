package render

import (
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/internal/decimal"
)

// tsTexts remembers the options text last written for a few flows, for
// the layout nearly every segment after the handshake has: NOP, NOP,
// timestamps ("nop,nop,TS val 570108087 ecr 1917150808"). A sender's TS
// value ticks once a millisecond (Linux) and its echo changes only when
// the peer's does, so consecutive segments of one direction mostly carry
// the same ten option bytes: 81 % of make bench's big.pcap's lines (20 000
// short connections interleaved), 94 % of bulk.pcap's. Two ten-digit
// numbers were the largest part of the integer formatting that is a tenth
// of replay's CPU; copying the kept text instead costs a compare.
//
// A flow picks its slot by its ports, but a hit is decided by the option
// bytes alone, so two flows sharing a slot only cost misses, never a wrong
// text. The table is an array, so a renderer copied by value shares
// nothing (as secondsText).
type tsTexts struct {
	slot [tsSlots]tsText
}

// tsSlots is flowTexts' count (flowSlot picks the slot in both); each
// slot is 56 bytes, the table 3.5 KiB, inside L1 with the rest.
const tsSlots = flowSlots

type tsText struct {
	raw  [8]byte // the option's value and echo, as they sit in the header
	n    uint8   // length of text; 0: nothing kept
	text [tsTextMax]byte
}

// tsTextMax is the longest text: "nop,nop,TS val " (15), ten digits,
// " ecr " (5), ten digits.
const tsTextMax = 15 + 10 + 5 + 10

// isNopNopTS reports whether TCP header t ends in exactly NOP, NOP,
// timestamps (data offset 8: 12 bytes of options).
func isNopNopTS(t decode.TCP) bool {
	return len(t) >= 32 && t.DataOffset() == 8 && t[20] == decode.OptNOP && t[21] == decode.OptNOP &&
		t[22] == decode.OptTimestamp && t[23] == 10
}

// appendOptions is the package's appendOptions with the NOP, NOP,
// timestamps text taken from the table when this slot's last segment had
// the same option bytes.
func (c *tsTexts) appendOptions(b []byte, p *decode.Packet, sackBase uint32) []byte {
	t := p.TCP
	if !isNopNopTS(t) {
		return appendOptionsWalk(b, p, sackBase)
	}
	raw := [8]byte(t[24:32]) // compared as bytes: no byte order to mind
	e := &c.slot[flowSlot(t.SrcPort(), t.DstPort())]
	if e.n != 0 && e.raw == raw {
		return append(b, e.text[:e.n]...)
	}
	at := len(b)
	b = appendNopNopTS(b, t)
	e.raw, e.n = raw, uint8(copy(e.text[:], b[at:]))
	return b
}

// appendNopNopTS writes the options of a header that isNopNopTS.
func appendNopNopTS(b []byte, t decode.TCP) []byte {
	b = decimal.AppendUint(append(b, "nop,nop,TS val "...), uint64(decode.Ntohl(t[24:])))
	return decimal.AppendUint(append(b, " ecr "...), uint64(decode.Ntohl(t[28:])))
}
