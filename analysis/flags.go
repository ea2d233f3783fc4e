package analysis

import "math/bits"

// Flags is the set of Wireshark sequence-analysis verdicts (tcp.analysis.*)
// given to one segment. It is a bitmask so a segment can carry several at
// once (a zero-window segment can also be a retransmission), and so the
// result stays a small value with no allocation.
type Flags uint16

// The analysis flags, in the order of packet-json.md. A fast or spurious
// retransmission carries only its specific flag, never also Retransmission:
// tshark sets the generic field beside them, but one word per verdict is
// clearer to read and is what the JSON spec asks for.
const (
	Retransmission         Flags = 1 << iota // data sent again after a timeout
	FastRetransmission                       // data sent again after duplicate ACKs
	SpuriousRetransmission                   // data sent again that was already acknowledged
	OutOfOrder                               // older data arriving soon after newer data
	LostSegment                              // a gap: earlier data never reached the capture
	AckLostSegment                           // acknowledges data the capture never saw
	DuplicateAck                             // the same ACK again, hinting at a loss
	ZeroWindow                               // the sender has no receive buffer left
	ZeroWindowProbe                          // one byte sent into a zero window to test it
	ZeroWindowProbeAck                       // the answer to a zero-window probe
	WindowFull                               // data fills the receiver's window exactly
	WindowUpdate                             // only the advertised window changed
	KeepAlive                                // an idle-connection probe (one byte before the next)
	KeepAliveAck                             // the answer to a keep-alive
	ReusedPorts                              // a new connection on the ports of an older one
)

// Has reports whether every flag in g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Names returns the set flags by their packet-json.md names, in the spec's
// order; an empty (non-nil) slice when none is set, so JSON shows [].
func (f Flags) Names() []string {
	names := []string{}
	for i := range flagCount {
		if f&(1<<i) != 0 {
			names = append(names, FlagName(i))
		}
	}
	return names
}

// flagCount is the number of analysis flags (bits 0 to flagCount-1).
const flagCount = 15

// FlagName is the packet-json.md name of the flag 1<<bit ("" beyond the
// last): what Names lists, for a caller that writes them one by one
// without the slice (the JSON renderer, per segment).
func FlagName(bit int) string {
	// The spec's names, index i for bit 1<<i (a switch over a constant
	// array: the package keeps no mutable variables).
	switch all := [flagCount]string{
		"retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
		"lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
		"zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
		"reused_ports",
	}; {
	case bit >= 0 && bit < flagCount:
		return all[bit]
	}
	return ""
}

// AppendJSON appends the set flags' names as JSON strings separated by
// commas (the inside of the "analysis" array), allocating nothing.
//
// It visits the set bits only, lowest first (most segments have none: a
// loop over all fifteen was 2 % of replay --json's instructions).
func (f Flags) AppendJSON(b []byte) []byte {
	for rest := uint16(f); rest != 0; rest &= rest - 1 {
		if rest != uint16(f) { // not the first
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), FlagName(bits.TrailingZeros16(rest))...), '"')
	}
	return b
}

// anyRetransmission is every flavour of "this data was sent before".
const anyRetransmission = Retransmission | FastRetransmission | SpuriousRetransmission

// ConnEvents marks the connection-control events of a segment, as tshark's
// tcp.connection.syn/synack/fin/rst fields do, so the UI can show them
// without re-reading header bits.
type ConnEvents uint8

// The connection events.
const (
	ConnSYN    ConnEvents = 1 << iota // SYN without ACK: a client opens
	ConnSYNACK                        // SYN with ACK: a server accepts
	ConnFIN                           // FIN: one side has no more data
	ConnRST                           // RST: the connection is aborted
)

// Names returns "syn", "synack", "fin", "rst" for the set events, in that
// order; an empty (non-nil) slice when none is set.
func (c ConnEvents) Names() []string {
	names := []string{}
	for i, n := range [...]string{"syn", "synack", "fin", "rst"} {
		if c&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return names
}

// AppendJSON appends the set events' names as JSON strings separated by
// commas (the inside of the "conn" array), allocating nothing.
func (c ConnEvents) AppendJSON(b []byte) []byte {
	if c == 0 {
		return b // most segments
	}
	first := true
	for i, n := range [...]string{"syn", "synack", "fin", "rst"} {
		if c&(1<<i) != 0 {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(append(append(b, '"'), n...), '"')
		}
	}
	return b
}

// Severity is a Wireshark expert-info level. The UI colours a segment by it
// and a student learns which events are routine and which hint at trouble.
type Severity uint8

// The levels, from routine to serious (Wireshark's PI_CHAT … PI_ERROR).
// Error is never produced by the analysis itself; it exists so a decoder
// problem can be ranked on the same scale.
const (
	SeverityNone  Severity = iota // nothing worth a mark
	SeverityChat                  // normal workflow: SYN, FIN, window update
	SeverityNote                  // unusual but harmless: retransmission, dup ACK, keep-alive
	SeverityWarn                  // likely a problem: loss, zero window, reset, out of order
	SeverityError                 // malformed input
)

// String returns "", "chat", "note", "warn" or "error".
func (s Severity) String() string {
	switch s {
	case SeverityChat:
		return "chat"
	case SeverityNote:
		return "note"
	case SeverityWarn:
		return "warn"
	case SeverityError:
		return "error"
	}
	return ""
}

// severity is the expert level Wireshark gives each flag (packet-tcp.c,
// expert registrations in group PI_SEQUENCE) and each connection event.
func severity(f Flags, c ConnEvents) Severity {
	s := SeverityNone
	if c&(ConnSYN|ConnSYNACK|ConnFIN) != 0 || f&WindowUpdate != 0 {
		s = SeverityChat
	}
	if f&(anyRetransmission|ReusedPorts|KeepAlive|KeepAliveAck|DuplicateAck|ZeroWindowProbe|ZeroWindowProbeAck) != 0 {
		s = SeverityNote
	}
	if f&(OutOfOrder|LostSegment|AckLostSegment|WindowFull|ZeroWindow) != 0 || c&ConnRST != 0 {
		s = SeverityWarn
	}
	return s
}
