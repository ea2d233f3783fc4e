package dfilter

// The grammar, as Wireshark 4.0's (man wireshark-filter), lowest
// precedence first: "and" binds tighter than "or", as in Wireshark.
//
//	expr     = and { ("||" | "or") and }
//	and      = unary { ("&&" | "and") unary }
//	unary    = ("!" | "not") unary | "(" expr ")" | relation
//	relation = operand [ cmp operand | "in" set ]
//	operand  = WORD [ "[" range "]" ] [ "&" WORD ]   a field, maybe sliced or masked
//	         | WORD "(" operand ")"                   len(f), count(f)
//	         | STRING | WORD                          a literal
//	set      = "{" elem { [","] elem } "}"            (Wireshark 4.0 needs the commas;
//	elem     = operand [ ".." operand ]                older versions and tcpscope do not)

// node is one node of the syntax tree.
type node interface{ span() (int, int) }

// logic is a && b or a || b.
type logic struct {
	and  bool
	l, r node
}

func (n *logic) span() (int, int) {
	a, _ := n.l.span()
	_, b := n.r.span()
	return a, b
}

// not is !x.
type not struct {
	pos int
	x   node
}

func (n *not) span() (int, int) {
	_, b := n.x.span()
	return n.pos, b
}

// test is a bare operand: a field present in the frame (or, masked, with
// a non-zero value).
type test struct{ x *operand }

func (n *test) span() (int, int) { return n.x.pos, n.x.end }

// compare is l OP r.
type compare struct {
	op   token
	l, r *operand
}

func (n *compare) span() (int, int) { return n.l.pos, n.r.end }

// in is x in {…}.
type in struct {
	x    *operand
	set  []elem
	end  int
	inAt token
}

func (n *in) span() (int, int) { return n.x.pos, n.end }

// elem is one member of a set: a value, or lo..hi.
type elem struct{ lo, hi *operand }

// operand is a field (maybe sliced, masked or inside a function) or a
// literal.
type operand struct {
	word     token    // the field name or literal (tWord or tString)
	fn       string   // "len" or "count" when word is the function's name
	arg      *operand // the function's argument
	slice    *token   // the range inside [ ], a tWord
	mask     *token   // the literal after &
	pos, end int
}

type parser struct {
	expr string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// unexpected reports the token t as out of place, as Wireshark words it.
func (p *parser) unexpected(t token) error {
	if t.kind == tEOF {
		return errAt(p.expr, t.pos, t.pos, "Unexpected end of filter expression.")
	}
	return errAt(p.expr, t.pos, t.end, "%q was unexpected in this context.", t.text)
}

// parse parses a whole filter expression.
func parse(expr string) (node, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{expr: expr, toks: toks}
	if p.peek().kind == tEOF {
		return nil, errAt(expr, 0, 0, "The filter is empty.")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	return n, nil
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &logic{and: false, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &logic{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	switch t := p.peek(); t.kind {
	case tNot:
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &not{pos: t.pos, x: x}, nil
	case tLParen:
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			if c.kind == tEOF {
				return nil, errAt(p.expr, t.pos, t.end, "The parenthesis is never closed.")
			}
			return nil, p.unexpected(c)
		}
		return x, nil
	}
	return p.relation()
}

func (p *parser) relation() (node, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); t.kind {
	case tCmp:
		p.next()
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &compare{op: t, l: l, r: r}, nil
	case tIn:
		p.next()
		return p.set(l, t)
	}
	return &test{x: l}, nil
}

func (p *parser) set(x *operand, inAt token) (node, error) {
	if t := p.next(); t.kind != tLBrace {
		return nil, p.unexpected(t)
	}
	n := &in{x: x, inAt: inAt}
	for {
		t := p.peek()
		if t.kind == tRBrace {
			p.next()
			if len(n.set) == 0 {
				return nil, errAt(p.expr, t.pos, t.end, "A set needs at least one member.")
			}
			n.end = t.end
			return n, nil
		}
		if t.kind == tComma && len(n.set) > 0 {
			p.next()
			continue
		}
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		e := elem{lo: lo}
		if p.peek().kind == tDotDot {
			p.next()
			if e.hi, err = p.operand(); err != nil {
				return nil, err
			}
		}
		n.set = append(n.set, e)
	}
}

func (p *parser) operand() (*operand, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return &operand{word: t, pos: t.pos, end: t.end}, nil
	case tWord:
	default:
		return nil, p.unexpected(t)
	}
	o := &operand{word: t, pos: t.pos, end: t.end}
	if p.peek().kind == tLParen {
		// A function: len(tcp.payload), count(tcp.options.sack_le).
		open := p.next()
		arg, err := p.operand()
		if err != nil {
			return nil, err
		}
		c := p.next()
		if c.kind != tRParen {
			if c.kind == tEOF {
				return nil, errAt(p.expr, open.pos, open.end, "The parenthesis is never closed.")
			}
			return nil, p.unexpected(c)
		}
		o.fn, o.arg, o.end = t.text, arg, c.end
	}
	if p.peek().kind == tLBracket {
		open := p.next()
		r := p.next()
		if r.kind != tWord {
			return nil, p.unexpected(r)
		}
		c := p.next()
		if c.kind != tRBracket {
			if c.kind == tComma {
				return nil, errAt(p.expr, c.pos, c.end, "tcpscope takes one range per slice (Wireshark's [a,b] is not supported).")
			}
			if c.kind == tEOF {
				return nil, errAt(p.expr, open.pos, open.end, "The bracket is never closed.")
			}
			return nil, p.unexpected(c)
		}
		o.slice, o.end = &r, c.end
	}
	if p.peek().kind == tBitAnd {
		p.next()
		m := p.next()
		if m.kind != tWord {
			return nil, p.unexpected(m)
		}
		o.mask, o.end = &m, m.end
	}
	return o, nil
}
