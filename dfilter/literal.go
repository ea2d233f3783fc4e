package dfilter

import (
	"net/netip"
	"strconv"
	"strings"
)

// literal parses the operand o as a constant of kind k (the type of the
// field it is compared with, named name, of Wireshark type ftype), as
// Wireshark does: an unquoted word means what the field's type makes of it.
func (cc *compiler) literal(o *operand, k kind, name, ftype string) (*vals, error) {
	t := o.word
	v := &vals{}
	bad := func(what string) error {
		if t.kind == tWord && looksLikeField(t.text) && nearest(t.text, cc.names) != "" {
			return cc.unknown(t)
		}
		return cc.err(o.pos, o.end, "%q is not a valid %s.", t.text, what)
	}
	if t.kind == tString && k != kBytes && k != kEther {
		return nil, cc.err(o.pos, o.end, "%s (type=%s) cannot be converted from a string (%s).", name, ftype, t.text)
	}
	switch k {
	case kProto, kNone:
		return nil, cc.err(o.pos, o.end, "%s (type=%s) cannot be compared with a value: test it alone (it is present or not).", name, ftype)
	case kBool:
		switch t.text {
		case "True", "TRUE":
			v.addNum(1)
			return v, nil
		case "False", "FALSE":
			v.addNum(0)
			return v, nil
		}
		n, ok := parseInt(t.text)
		if !ok {
			return nil, bad("boolean (1, 0, True or False)")
		}
		v.addBool(n != 0)
	case kInt:
		n, ok := parseInt(t.text)
		if !ok {
			return nil, bad("number")
		}
		v.addNum(n)
	case kTime:
		n, ok := parseSeconds(t.text)
		if !ok {
			return nil, bad("time (seconds, such as 0.2)")
		}
		v.addNum(n)
	case kIPv4, kIPv6:
		a, bits, ok := parseAddr(t.text)
		if !ok || a.Is4() != (k == kIPv4) {
			if k == kIPv4 {
				return nil, bad("IPv4 address")
			}
			return nil, bad("IPv6 address")
		}
		v.addAddr(a)
		v.bits[0] = bits
	case kEther:
		b, ok := parseBytes(t.text)
		if t.kind == tString || !ok || len(b) != 6 {
			return nil, bad("MAC address")
		}
		v.addRaw(b)
	case kBytes:
		if t.kind == tString {
			v.addRaw([]byte(t.val))
			return v, nil
		}
		b, ok := parseBytes(t.text)
		if !ok {
			return nil, bad("byte string (such as 47:45:54)")
		}
		v.addRaw(b)
	}
	return v, nil
}

// parseInt parses a decimal, hexadecimal (0x), octal (leading 0) or binary
// (0b) integer, as Wireshark's strtoll with base 0 (plus 0b).
func parseInt(s string) (int64, bool) {
	if strings.ContainsRune(s, '_') {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 0, 64)
	return n, err == nil
}

// parseSeconds parses "1", "0.2", "-0.000001" into nanoseconds, exactly
// (no float rounding: 0.2 s is 200000000 ns).
func parseSeconds(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 10 || len(frac) > 9 && strings.Trim(frac[9:], "0") != "" {
		return 0, false
	}
	digits := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(whole) || !digits(frac) {
		return 0, false
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	n := w*1e9 + f
	if neg {
		n = -n
	}
	return n, true
}

// parseAddr parses an address with an optional /prefix length; bits is -1
// without one.
func parseAddr(s string) (netip.Addr, int16, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, 0, false
		}
		return p.Addr(), int16(p.Bits()), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, 0, false
	}
	return a.Unmap(), -1, true
}

// parseBytes parses a byte string: hex bytes separated by ':', '.' or '-'
// (47:45:54), one byte (7f), or an even run of hex digits (474554).
func parseBytes(s string) ([]byte, bool) {
	hex := func(s string) (byte, bool) {
		if len(s) < 1 || len(s) > 2 {
			return 0, false
		}
		v := 0
		for i := 0; i < len(s); i++ {
			h := hexVal(s[i])
			if h < 0 {
				return 0, false
			}
			v = v*16 + h
		}
		return byte(v), true
	}
	sep := strings.IndexAny(s, ":.-")
	if sep < 0 {
		if len(s) <= 2 {
			b, ok := hex(s)
			return []byte{b}, ok
		}
		if len(s)%2 != 0 {
			return nil, false
		}
		out := make([]byte, 0, len(s)/2)
		for i := 0; i < len(s); i += 2 {
			b, ok := hex(s[i : i+2])
			if !ok {
				return nil, false
			}
			out = append(out, b)
		}
		return out, true
	}
	c := s[sep]
	var out []byte
	for _, part := range strings.Split(s, string(c)) {
		b, ok := hex(part)
		if !ok {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

// looksLikeField reports whether a word reads as a field name (tcp.strem)
// rather than a value, to say "unknown field" instead of "bad number".
func looksLikeField(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	letters := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
			letters++
		case c >= '0' && c <= '9', c == '.':
		default:
			return false
		}
	}
	// A hex byte string (de:ad, cafe) is not a field name; a word with a
	// dot and letters beyond a-f is.
	return strings.Contains(s, ".") || letters > 0 && strings.IndexFunc(s, func(r rune) bool { return r > 'f' && r <= 'z' || r > 'F' && r <= 'Z' }) >= 0
}

// nearest returns the known name closest to s by edit distance, or "" when
// none is close enough to be a likely typo. A name that starts with s
// (tcp.analysis.retr) is offered too.
func nearest(s string, names []string) string {
	best, bestD := "", len(s)/3+2
	for _, n := range names {
		d := editDistance(s, n)
		if d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" && len(s) >= 5 {
		for _, n := range names {
			if strings.HasPrefix(n, s) {
				return n
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
