package dfilter

import (
	"bytes"
	"regexp"
	"strings"
)

// prog is a compiled test: true when the current frame passes.
type prog func(c *evalCtx) bool

// value is a compiled operand: a field (get != nil) or a constant.
type value struct {
	kind  kind
	get   getFn
	buf   *vals // where get writes; the constant itself when get is nil
	name  string
	ftype string
	o     *operand
}

// compiler turns the syntax tree into closures. Every buffer a closure
// needs is allocated here, once, so that running the program allocates
// nothing.
type compiler struct {
	expr   string
	fields map[string]*Field
	names  []string
	used   map[string]bool // the fields the filter reads
}

func (cc *compiler) err(pos, end int, format string, args ...any) error {
	return errAt(cc.expr, pos, end, format, args...)
}

func (cc *compiler) node(n node) (prog, error) {
	switch n := n.(type) {
	case *logic:
		l, err := cc.node(n.l)
		if err != nil {
			return nil, err
		}
		r, err := cc.node(n.r)
		if err != nil {
			return nil, err
		}
		if n.and {
			return func(c *evalCtx) bool { return l(c) && r(c) }, nil
		}
		return func(c *evalCtx) bool { return l(c) || r(c) }, nil
	case *not:
		x, err := cc.node(n.x)
		if err != nil {
			return nil, err
		}
		return func(c *evalCtx) bool { return !x(c) }, nil
	case *test:
		v, err := cc.field(n.x)
		if err != nil {
			return nil, err
		}
		get, buf := v.get, v.buf
		if n.x.mask != nil {
			// tcp.flags & 0x02: true when some value has a bit in common.
			return func(c *evalCtx) bool {
				buf.n = 0
				get(c, buf)
				for i := 0; i < buf.n; i++ {
					if buf.num[i] != 0 {
						return true
					}
				}
				return false
			}, nil
		}
		return func(c *evalCtx) bool {
			buf.n = 0
			get(c, buf)
			return buf.n > 0
		}, nil
	case *compare:
		return cc.compare(n)
	case *in:
		return cc.in(n)
	}
	panic("dfilter: unknown node")
}

// field compiles an operand that must be a field (or a function of one):
// the subject of a bare test, or the side of a comparison that is not a
// literal.
func (cc *compiler) field(o *operand) (*value, error) {
	if o.fn != "" {
		return cc.function(o)
	}
	if o.word.kind != tWord {
		return nil, cc.err(o.pos, o.end, "%s is not a field; a string can only be compared with one.", o.word.text)
	}
	f := cc.fields[o.word.text]
	if f == nil {
		return nil, cc.unknown(o.word)
	}
	cc.used[f.Name] = true
	v := &value{kind: f.kind, get: f.get, buf: &vals{}, name: f.Name, ftype: f.Type, o: o}
	if o.slice != nil {
		if err := cc.slice(v, *o.slice); err != nil {
			return nil, err
		}
	}
	if o.mask != nil {
		if err := cc.mask(v, *o.mask); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// unknown is the error for a word that is not a field, with the nearest
// field name when one is close.
func (cc *compiler) unknown(t token) error {
	msg := t.text + " is neither a field nor a protocol name."
	if s := nearest(t.text, cc.names); s != "" {
		msg += " Did you mean " + s + "?"
	}
	return cc.err(t.pos, t.end, "%s", msg)
}

// function compiles len(f) and count(f).
func (cc *compiler) function(o *operand) (*value, error) {
	arg, err := cc.field(o.arg)
	if err != nil {
		return nil, err
	}
	aget, abuf := arg.get, arg.buf
	v := &value{kind: kInt, buf: &vals{}, name: o.word.text + "(" + arg.name + ")", ftype: "FT_UINT32", o: o}
	switch o.word.text {
	case "count":
		v.get = func(c *evalCtx, out *vals) {
			abuf.n = 0
			aget(c, abuf)
			if abuf.n > 0 {
				out.addNum(int64(abuf.n))
			}
		}
	case "len":
		if arg.kind != kBytes && arg.kind != kEther && arg.kind != kIPv4 && arg.kind != kIPv6 {
			return nil, cc.err(o.arg.pos, o.arg.end, "%s (type=%s) has no length; len() takes a byte string or an address.", arg.name, arg.ftype)
		}
		k := arg.kind
		v.get = func(c *evalCtx, out *vals) {
			abuf.n = 0
			aget(c, abuf)
			for i := 0; i < abuf.n; i++ {
				switch k {
				case kIPv4:
					out.addNum(4)
				case kIPv6:
					out.addNum(16)
				default:
					out.addNum(int64(len(abuf.raw[i])))
				}
			}
		}
	default:
		return nil, cc.err(o.word.pos, o.word.end, "The function %s() does not exist (tcpscope has len() and count()).", o.word.text)
	}
	if o.slice != nil {
		return nil, cc.err(o.slice.pos, o.slice.end, "%s is a number and cannot be sliced.", v.name)
	}
	if o.mask != nil {
		if err := cc.mask(v, *o.mask); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// slice turns v into the byte range r of each of its values.
func (cc *compiler) slice(v *value, r token) error {
	switch v.kind {
	case kBytes, kEther, kIPv4, kIPv6:
	default:
		return cc.err(v.o.word.pos, v.o.word.end, "%q is a %s and cannot be sliced into a sequence of bytes.", v.name, v.ftype)
	}
	start, length, toEnd, ok := parseRange(r.text)
	if !ok {
		return cc.err(r.pos, r.end, "%q is not a valid range: use [i:n], [i-j], [i], [:n] or [i:].", r.text)
	}
	get, in, k := v.get, &vals{}, v.kind
	var scratch [maxVals][16]byte // address bytes for slicing
	v.get = func(c *evalCtx, out *vals) {
		in.n = 0
		get(c, in)
		for i := 0; i < in.n; i++ {
			b := in.raw[i]
			switch k {
			case kIPv4:
				a := in.addr[i].As4()
				b = scratch[i][:copy(scratch[i][:], a[:])]
			case kIPv6:
				a := in.addr[i].As16()
				b = scratch[i][:copy(scratch[i][:], a[:])]
			}
			s := start
			if s < 0 {
				s += len(b)
			}
			e := s + length
			if toEnd {
				e = len(b)
			}
			// Wireshark drops a slice that does not fit in the value.
			if s < 0 || s >= len(b) || e > len(b) || e <= s {
				continue
			}
			out.addRaw(b[s:e])
		}
	}
	v.kind, v.ftype, v.name = kBytes, "FT_BYTES", v.name+"["+r.text+"]"
	return nil
}

// parseRange parses a slice range: "i:n" (n bytes from i), "i-j" (i to j
// inclusive), "i" (one byte), ":n" and "i:" (to the end). i may be
// negative, counting from the end.
func parseRange(s string) (start, length int, toEnd, ok bool) {
	num := func(s string) (int, bool) {
		if s == "" || len(s) > 9 {
			return 0, false
		}
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	sign := func(n int) int {
		if neg {
			return -n
		}
		return n
	}
	if a, b, found := strings.Cut(body, ":"); found {
		if a == "" && !neg {
			a = "0"
		}
		i, ok1 := num(a)
		if b == "" {
			return sign(i), 0, true, ok1
		}
		n, ok2 := num(b)
		return sign(i), n, false, ok1 && ok2 && n > 0
	}
	if a, b, found := strings.Cut(body, "-"); found && !neg {
		i, ok1 := num(a)
		j, ok2 := num(b)
		return i, j - i + 1, false, ok1 && ok2 && j >= i
	}
	i, ok1 := num(body)
	return sign(i), 1, false, ok1
}

// mask turns v into each value AND the literal m.
func (cc *compiler) mask(v *value, m token) error {
	if v.kind != kInt && v.kind != kBool {
		return cc.err(v.o.pos, m.end, "%s (type=%s) is not an integer; & takes one.", v.name, v.ftype)
	}
	lit, err := cc.literal(&operand{word: m, pos: m.pos, end: m.end}, kInt, v.name, v.ftype)
	if err != nil {
		return err
	}
	mask, get := lit.num[0], v.get
	v.get = func(c *evalCtx, out *vals) {
		get(c, out)
		for i := 0; i < out.n; i++ {
			out.num[i] &= mask
		}
	}
	v.kind = kInt
	return nil
}

// side compiles one side of a comparison, given the other: a word that
// is not a field is a literal of the other side's type.
func (cc *compiler) sides(l, r *operand) (lv, rv *value, err error) {
	isField := func(o *operand) bool {
		return o.fn != "" || o.word.kind == tWord && cc.fields[o.word.text] != nil
	}
	switch {
	case isField(l):
		if lv, err = cc.field(l); err != nil {
			return nil, nil, err
		}
		if isField(r) {
			rv, err = cc.field(r)
		} else {
			rv, err = cc.constant(r, lv)
		}
		return lv, rv, err
	case isField(r):
		if rv, err = cc.field(r); err != nil {
			return nil, nil, err
		}
		lv, err = cc.constant(l, rv)
		return lv, rv, err
	case l.word.kind == tWord && looksLikeField(l.word.text):
		return nil, nil, cc.unknown(l.word)
	}
	return nil, nil, cc.err(l.pos, l.end, "Neither side is a field: %s is a literal.", l.word.text)
}

// constant compiles o as a literal of f's type.
func (cc *compiler) constant(o *operand, f *value) (*value, error) {
	if o.slice != nil || o.mask != nil {
		if o.word.kind == tWord && looksLikeField(o.word.text) {
			return nil, cc.unknown(o.word)
		}
		return nil, cc.err(o.pos, o.end, "Only a field can be sliced or masked; %s is a literal.", o.word.text)
	}
	lit, err := cc.literal(o, f.kind, f.name, f.ftype)
	if err != nil {
		return nil, err
	}
	return &value{kind: f.kind, buf: lit, name: o.word.text, o: o}, nil
}

// cmpFn orders value i of a against value j of b: <0, 0, >0.
type cmpFn func(a *vals, i int, b *vals, j int) int

func cmpNum(a *vals, i int, b *vals, j int) int {
	switch x, y := a.num[i], b.num[j]; {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpAddr compares addresses; a literal with a prefix (10.0.0.0/8) equals
// every address inside it.
func cmpAddr(a *vals, i int, b *vals, j int) int {
	x, y := a.addr[i], b.addr[j]
	bits := a.bits[i]
	if bb := b.bits[j]; bb >= 0 && (bits < 0 || bb < bits) {
		bits = bb
	}
	if bits >= 0 {
		if p, err := x.Prefix(int(bits)); err == nil {
			x = p.Addr()
		}
		if p, err := y.Prefix(int(bits)); err == nil {
			y = p.Addr()
		}
	}
	return x.Compare(y)
}

func cmpRaw(a *vals, i int, b *vals, j int) int { return bytes.Compare(a.raw[i], b.raw[j]) }

func cmpFor(k kind) cmpFn {
	switch k {
	case kIPv4, kIPv6:
		return cmpAddr
	case kEther, kBytes:
		return cmpRaw
	}
	return cmpNum
}

// compatible reports whether fields of kinds a and b can be compared.
func compatible(a, b kind) bool {
	num := func(k kind) bool { return k == kInt || k == kBool }
	raw := func(k kind) bool { return k == kBytes || k == kEther }
	return a == b || num(a) && num(b) || raw(a) && raw(b)
}

func (cc *compiler) compare(n *compare) (prog, error) {
	op := n.op.val
	if op == "matches" {
		return cc.matches(n)
	}
	lv, rv, err := cc.sides(n.l, n.r)
	if err != nil {
		return nil, err
	}
	for _, v := range []*value{lv, rv} {
		if v.get != nil && (v.kind == kProto || v.kind == kNone) {
			return nil, cc.err(v.o.pos, v.o.end, "%s (type=%s) cannot participate in %q comparison: test it alone (it is present or not).", v.name, v.ftype, op)
		}
	}
	if lv.get != nil && rv.get != nil && !compatible(lv.kind, rv.kind) {
		return nil, cc.err(n.l.pos, n.r.end, "%s (type=%s) and %s (type=%s) are not of compatible types.", lv.name, lv.ftype, rv.name, rv.ftype)
	}
	lget, lbuf, rget, rbuf := lv.get, lv.buf, rv.get, rv.buf
	load := func(c *evalCtx) {
		if lget != nil {
			lbuf.n = 0
			lget(c, lbuf)
		}
		if rget != nil {
			rbuf.n = 0
			rget(c, rbuf)
		}
	}
	if op == "contains" {
		if lv.kind != kBytes && lv.kind != kEther {
			return nil, cc.err(n.l.pos, n.l.end, "%s (type=%s) cannot participate in \"contains\" comparison: it takes a byte string.", lv.name, lv.ftype)
		}
		return func(c *evalCtx) bool {
			load(c)
			for i := 0; i < lbuf.n; i++ {
				for j := 0; j < rbuf.n; j++ {
					if bytes.Contains(lbuf.raw[i], rbuf.raw[j]) {
						return true
					}
				}
			}
			return false
		}, nil
	}
	cmp := cmpFor(lv.kind)
	if lv.kind == kBool || rv.kind == kBool {
		cmp = cmpNum
	}
	var ok func(int) bool
	all := false // every pair must pass (=== and !=, Wireshark's all_eq and all_ne)
	switch op {
	case "==":
		ok = func(x int) bool { return x == 0 }
	case "===":
		ok, all = func(x int) bool { return x == 0 }, true
	case "!=":
		ok, all = func(x int) bool { return x != 0 }, true
	case "!==":
		ok = func(x int) bool { return x != 0 }
	case "<":
		ok = func(x int) bool { return x < 0 }
	case "<=":
		ok = func(x int) bool { return x <= 0 }
	case ">":
		ok = func(x int) bool { return x > 0 }
	case ">=":
		ok = func(x int) bool { return x >= 0 }
	default:
		return nil, cc.err(n.op.pos, n.op.end, "%q is not an operator.", n.op.text)
	}
	if all {
		return func(c *evalCtx) bool {
			load(c)
			if lbuf.n == 0 || rbuf.n == 0 {
				return false // an absent field passes no comparison
			}
			for i := 0; i < lbuf.n; i++ {
				for j := 0; j < rbuf.n; j++ {
					if !ok(cmp(lbuf, i, rbuf, j)) {
						return false
					}
				}
			}
			return true
		}, nil
	}
	return func(c *evalCtx) bool {
		load(c)
		for i := 0; i < lbuf.n; i++ {
			for j := 0; j < rbuf.n; j++ {
				if ok(cmp(lbuf, i, rbuf, j)) {
					return true
				}
			}
		}
		return false
	}, nil
}

// matches compiles f matches "re". Wireshark 4.0 uses PCRE2, caseless by
// default; tcpscope uses Go's RE2 syntax (regexp), also caseless unless the
// pattern says (?-i). The two agree on common patterns; RE2 has no
// backreferences or lookaround, and matches bytes ≥ 0x80 as runes.
func (cc *compiler) matches(n *compare) (prog, error) {
	lv, err := cc.field(n.l)
	if err != nil {
		return nil, err
	}
	if lv.kind != kBytes && lv.kind != kEther {
		return nil, cc.err(n.l.pos, n.l.end, "%s (type=%s) cannot participate in \"matches\" comparison: it takes a byte string.", lv.name, lv.ftype)
	}
	if n.r.word.kind != tString || n.r.slice != nil || n.r.mask != nil || n.r.fn != "" {
		return nil, cc.err(n.r.pos, n.r.end, "The right side of \"matches\" must be a quoted regular expression, not %s.", n.r.word.text)
	}
	if _, err := regexp.Compile(n.r.word.val); err != nil {
		return nil, cc.err(n.r.pos, n.r.end, "%s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	re, err := regexp.Compile("(?i)" + n.r.word.val)
	if err != nil {
		return nil, cc.err(n.r.pos, n.r.end, "%s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	get, buf := lv.get, lv.buf
	return func(c *evalCtx) bool {
		buf.n = 0
		get(c, buf)
		for i := 0; i < buf.n; i++ {
			if re.Match(buf.raw[i]) {
				return true
			}
		}
		return false
	}, nil
}

// in compiles f in {a, b, lo..hi}: true when some value of f equals a
// member or lies in a range (one value inside, not one value above lo and
// another below hi).
func (cc *compiler) in(n *in) (prog, error) {
	fv, err := cc.field(n.x)
	if err != nil {
		if n.x.word.kind == tWord && cc.fields[n.x.word.text] == nil && n.x.fn == "" && !looksLikeField(n.x.word.text) {
			return nil, cc.err(n.x.pos, n.x.end, "The left side of \"in\" must be a field, not %s.", n.x.word.text)
		}
		return nil, err
	}
	if fv.kind == kProto || fv.kind == kNone {
		return nil, cc.err(n.x.pos, n.x.end, "%s (type=%s) cannot participate in \"in\" comparison.", fv.name, fv.ftype)
	}
	type member struct{ lo, hi *vals }
	members := make([]member, 0, len(n.set))
	for _, e := range n.set {
		lo, err := cc.constant(e.lo, fv)
		if err != nil {
			return nil, err
		}
		m := member{lo: lo.buf}
		if e.hi != nil {
			hi, err := cc.constant(e.hi, fv)
			if err != nil {
				return nil, err
			}
			m.hi = hi.buf
		}
		members = append(members, m)
	}
	cmp := cmpFor(fv.kind)
	if fv.kind == kBool {
		cmp = cmpNum
	}
	get, buf := fv.get, fv.buf
	return func(c *evalCtx) bool {
		buf.n = 0
		get(c, buf)
		for i := 0; i < buf.n; i++ {
			for k := range members {
				m := &members[k]
				if m.hi == nil {
					if cmp(buf, i, m.lo, 0) == 0 {
						return true
					}
				} else if cmp(buf, i, m.lo, 0) >= 0 && cmp(buf, i, m.hi, 0) <= 0 {
					return true
				}
			}
		}
		return false
	}, nil
}
