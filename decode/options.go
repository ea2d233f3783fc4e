package decode

// TCP option kinds (IANA "TCP Option Kind Numbers").
const (
	OptEOL       = 0  // End of Option List, 1 byte
	OptNOP       = 1  // No-Operation, 1 byte
	OptMSS       = 2  // Maximum Segment Size, 4 bytes (RFC 9293)
	OptWScale    = 3  // Window Scale, 3 bytes (RFC 7323)
	OptSACKPerm  = 4  // SACK Permitted, 2 bytes (RFC 2018)
	OptSACK      = 5  // SACK, 2 + 8n bytes (RFC 2018)
	OptTimestamp = 8  // Timestamps, 10 bytes (RFC 7323)
	OptMD5       = 19 // TCP MD5 Signature, 18 bytes (RFC 2385)
	OptAO        = 29 // TCP Authentication Option (RFC 5925)
	OptMPTCP     = 30 // Multipath TCP (RFC 8684)
	OptFastOpen  = 34 // TCP Fast Open cookie (RFC 7413)
)

// MaxSACKBlocks is the most SACK blocks that fit in 40 option bytes.
const MaxSACKBlocks = 4

// SACKBlock is one SACK block [Left, Right) in raw sequence numbers.
type SACKBlock struct{ Left, Right uint32 }

// Options holds the decoded TCP options of one segment. It is a value with
// fixed-size arrays so that decoding allocates nothing.
type Options struct {
	MSS       uint16 // valid when HasMSS
	HasMSS    bool
	WScale    uint8 // shift count as sent (not clamped); valid when HasWScale
	HasWScale bool
	SACKPerm  bool
	SACK      [MaxSACKBlocks]SACKBlock
	NSACK     int
	// EmptySACK: a SACK option of length 2, with no block. Legal as far as
	// the length rule goes, but Wireshark 4.0 raises "Malformed Packet" on
	// it and shows no sequence analysis for that segment.
	EmptySACK bool
	HasTS     bool
	TSVal     uint32
	TSEcr     uint32
	Count     int // options seen, NOP and EOL excluded
	Unknown   int // options of kinds this package does not interpret (kept, not errors)
	// Truncated: the snaplen cut the options area; the options before the
	// cut are kept. This is not the sender's fault, unlike Malformed.
	Truncated bool
	// Malformed is empty when every option parsed; otherwise it says what
	// was wrong with the first bad one, e.g. "option 8 at 24: length 12 ≠ 10".
	// Options before it are kept (lenient, like gVisor and Wireshark).
	Malformed string
	BadOffset int // byte offset of the bad option within the TCP header
}

// Option is one option as found on the wire, for the field-by-field view.
type Option struct {
	Kind   uint8
	Offset int    // offset within the TCP header
	Data   []byte // bytes after kind and length (nil for EOL and NOP)
	Len    int    // total length including kind and length bytes
}

// OptionIter walks the options area. Use:
//
//	it := decode.NewOptionIter(t)
//	for it.Next() { o := it.Option() … }
//	if err := it.Err(); err != "" { … }
type OptionIter struct {
	b     []byte
	off   int
	cur   Option
	err   string
	cut   bool // the options area was cut by the capture, and iteration reached the cut
	whole int  // length of the options area the header declares
}

// NewOptionIter iterates over the captured options of t.
func NewOptionIter(t TCP) OptionIter {
	return OptionIter{b: t.Options(), whole: t.HeaderLen() - tcpMinLen}
}

// Next advances to the next option; false at the end or at a malformed option.
func (it *OptionIter) Next() bool {
	if it.err != "" || it.off >= len(it.b) {
		return false
	}
	k := it.b[it.off]
	start := it.off
	if k == OptEOL || k == OptNOP {
		it.cur = Option{Kind: k, Offset: tcpMinLen + start, Len: 1}
		it.off++
		if k == OptEOL {
			it.off = len(it.b) // the rest is padding
		}
		return true
	}
	if start+1 >= len(it.b) {
		it.err = optErr(k, start, "length byte missing")
		it.cut = len(it.b) < it.whole
		return false
	}
	l := int(it.b[start+1])
	if l < 2 {
		it.err = optErr(k, start, "length "+itoa(l)+" < 2")
		return false
	}
	if start+l > len(it.b) {
		it.err = optErr(k, start, "length "+itoa(l)+" runs past the header")
		it.cut = len(it.b) < it.whole && start+l <= it.whole
		return false
	}
	if want, ok := fixedLen(k); ok && l != want {
		it.err = optErr(k, start, "length "+itoa(l)+" ≠ "+itoa(want))
		return false
	}
	if k == OptSACK && (l-2)%8 != 0 {
		it.err = optErr(k, start, "length "+itoa(l)+" is not 2 + 8n")
		return false
	}
	it.cur = Option{Kind: k, Offset: tcpMinLen + start, Data: it.b[start+2 : start+l], Len: l}
	it.off += l
	return true
}

// Option returns the current option.
func (it *OptionIter) Option() Option { return it.cur }

// Cut reports that iteration stopped where the capture's snaplen cut the
// options, not at a malformed option.
func (it *OptionIter) Cut() bool { return it.cut }

// Err returns "" or what was wrong with the option where iteration stopped.
func (it *OptionIter) Err() string { return it.err }

// ErrOffset returns the TCP-header offset of the malformed option.
func (it *OptionIter) ErrOffset() int { return tcpMinLen + it.off }

func fixedLen(kind uint8) (int, bool) {
	switch kind {
	case OptMSS:
		return 4, true
	case OptWScale:
		return 3, true
	case OptSACKPerm:
		return 2, true
	case OptTimestamp:
		return 10, true
	case OptMD5:
		return 18, true
	}
	return 0, false
}

func optErr(kind uint8, off int, what string) string {
	return "option " + itoa(int(kind)) + " at " + itoa(tcpMinLen+off) + ": " + what
}

// ParseOptions decodes the options of t into o, keeping everything before a
// malformed option and describing the bad one in o.Malformed.
func ParseOptions(t TCP, o *Options) {
	// The options of nearly every segment Linux and the BSDs send once
	// the connection is up: NOP, NOP, timestamps (the layout RFC 7323's
	// appendix A recommends), in a 32-byte header. Recognised with one
	// comparison, they are what the walk below would find; anything else
	// takes the walk.
	if len(t) >= 32 && t[tcpDataOff]>>4 == 8 && t[20] == OptNOP && t[21] == OptNOP && t[22] == OptTimestamp && t[23] == 10 {
		*o = Options{HasTS: true, TSVal: ntohl(t[24:]), TSEcr: ntohl(t[28:]), Count: 1}
		return
	}
	parseOptionsWalk(t, o)
}

// parseOptionsWalk is ParseOptions without the shortcut: every option in
// turn.
func parseOptionsWalk(t TCP, o *Options) {
	*o = Options{}
	it := NewOptionIter(t)
	for it.Next() {
		op := it.Option()
		switch op.Kind {
		case OptEOL, OptNOP:
			continue
		case OptMSS:
			o.MSS, o.HasMSS = ntohs(op.Data), true
		case OptWScale:
			o.WScale, o.HasWScale = op.Data[0], true
		case OptSACKPerm:
			o.SACKPerm = true
		case OptSACK:
			o.EmptySACK = o.EmptySACK || len(op.Data) == 0
			for i := 0; i+8 <= len(op.Data) && o.NSACK < MaxSACKBlocks; i += 8 {
				o.SACK[o.NSACK] = SACKBlock{Left: ntohl(op.Data[i:]), Right: ntohl(op.Data[i+4:])}
				o.NSACK++
			}
		case OptTimestamp:
			o.TSVal, o.TSEcr, o.HasTS = ntohl(op.Data), ntohl(op.Data[4:]), true
		default:
			o.Unknown++
		}
		o.Count++
	}
	if e := it.Err(); e != "" {
		if it.Cut() {
			o.Truncated = true // cut by the capture, not sent wrong
		} else {
			o.Malformed = e
			o.BadOffset = it.ErrOffset()
		}
	}
}

// itoa formats small non-negative integers without fmt, so error strings
// stay cheap.
func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
