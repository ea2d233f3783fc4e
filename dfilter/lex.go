package dfilter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of one lexical token.
type tokKind uint8

const (
	tEOF      tokKind = iota
	tWord             // a field name or an unquoted literal: tcp.port, 80, 10.0.0.0/8, 47:45:54, ::1
	tString           // "..." with escapes decoded, or r"..." raw
	tCmp              // a comparison: == != === !== ~= < <= > >= and the word forms, contains, matches
	tAnd              // && and
	tOr               // || or
	tNot              // ! not
	tIn               // in
	tBitAnd           // & (bitwise and)
	tLParen           // (
	tRParen           // )
	tLBrace           // {
	tRBrace           // }
	tLBracket         // [
	tRBracket         // ]
	tComma            // ,
	tDotDot           // .. (a range inside a set)
)

// token is one token with its place in the expression, for carets.
type token struct {
	kind tokKind
	text string // the source text (a tString's decoded value in val)
	val  string // tCmp: the canonical operator; tString: the decoded string
	pos  int    // byte offset in the expression
	end  int    // byte offset just past the token
}

// wordOps are the operators Wireshark spells as words, with the symbol
// each stands for.
var wordOps = map[string]string{
	"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
	"contains": "contains", "matches": "matches", "any_eq": "==", "all_ne": "!=",
	"all_eq": "===", "any_ne": "!==",
}

// isWordByte reports whether c may appear in a field name or an unquoted
// literal. ':' and '-' are needed for byte strings, MAC and IPv6
// addresses, '/' for CIDR prefixes.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-' || c == '/'
}

// lex splits expr into tokens. It returns the first lexical error (an
// unknown character, an unterminated string) as an *Error.
func lex(expr string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(expr) {
		c := expr[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '"' || (c == 'r' || c == 'R') && i+1 < len(expr) && expr[i+1] == '"':
			s, n, err := lexString(expr, i)
			if err != nil {
				return nil, err
			}
			i = n
			toks = append(toks, token{kind: tString, text: expr[start:i], val: s, pos: start, end: i})
			continue
		case c == '.' && i+1 < len(expr) && expr[i+1] == '.':
			i += 2
			toks = append(toks, token{kind: tDotDot, text: "..", pos: start, end: i})
			continue
		case isWordByte(c):
			for i < len(expr) && isWordByte(expr[i]) {
				if expr[i] == '.' && i+1 < len(expr) && expr[i+1] == '.' {
					break // 8000..8100: the word stops before the range
				}
				i++
			}
			w := expr[start:i]
			t := token{kind: tWord, text: w, pos: start, end: i}
			switch lw := strings.ToLower(w); {
			case lw == "and":
				t.kind = tAnd
			case lw == "or":
				t.kind = tOr
			case lw == "not":
				t.kind = tNot
			case lw == "in":
				t.kind = tIn
			case wordOps[lw] != "":
				t.kind, t.val = tCmp, wordOps[lw]
			}
			toks = append(toks, t)
			continue
		}
		// Punctuation, longest match first.
		two := ""
		if i+1 < len(expr) {
			two = expr[i : i+2]
		}
		three := ""
		if i+2 < len(expr) {
			three = expr[i : i+3]
		}
		var t token
		n := 1
		switch {
		case three == "===" || three == "!==":
			t, n = token{kind: tCmp, val: three}, 3
		case two == "~=":
			t, n = token{kind: tCmp, val: "!=="}, 2 // any_ne, as Wireshark 4.0's ~=
		case two == "==" || two == "!=" || two == "<=" || two == ">=":
			t, n = token{kind: tCmp, val: two}, 2
		case two == "&&":
			t, n = token{kind: tAnd}, 2
		case two == "||":
			t, n = token{kind: tOr}, 2
		case c == '<' || c == '>':
			t = token{kind: tCmp, val: string(c)}
		case c == '!':
			t = token{kind: tNot}
		case c == '&':
			t = token{kind: tBitAnd}
		case c == '(':
			t = token{kind: tLParen}
		case c == ')':
			t = token{kind: tRParen}
		case c == '{':
			t = token{kind: tLBrace}
		case c == '}':
			t = token{kind: tRBrace}
		case c == '[':
			t = token{kind: tLBracket}
		case c == ']':
			t = token{kind: tRBracket}
		case c == ',':
			t = token{kind: tComma}
		default:
			if c >= 0x80 {
				n = utf8Len(expr[i:])
			}
			return nil, errAt(expr, i, i+n, "%q was unexpected in this context.", expr[i:i+n])
		}
		i += n
		t.pos, t.end, t.text = start, i, expr[start:i]
		toks = append(toks, t)
	}
	toks = append(toks, token{kind: tEOF, pos: len(expr), end: len(expr)})
	return toks, nil
}

// utf8Len is the length of the UTF-8 sequence at the start of s (at least 1).
func utf8Len(s string) int {
	_, n := utf8.DecodeRuneInString(s)
	return max(n, 1)
}

// lexString reads a string literal starting at expr[i] (a '"', or r" for a
// raw string) and returns its value and the offset after it. Escapes are
// Wireshark's: \\ \" \a \b \f \n \r \t \v, \xHH, \OOO (octal) and \uXXXX.
func lexString(expr string, i int) (string, int, error) {
	start := i
	raw := expr[i] != '"'
	if raw {
		i++
	}
	i++ // the opening quote
	var b strings.Builder
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && raw:
			// A raw string keeps backslashes; \" still does not end it.
			if i+1 < len(expr) && expr[i+1] == '"' {
				b.WriteString(`\"`)
				i += 2
				continue
			}
			b.WriteByte(c)
			i++
		case c == '\\':
			if i+1 >= len(expr) {
				return "", 0, errAt(expr, start, len(expr), "The string was not terminated.")
			}
			e := expr[i+1]
			i += 2
			switch e {
			case '\\', '"', '\'':
				b.WriteByte(e)
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'v':
				b.WriteByte('\v')
			case 'x':
				n := 0
				v := 0
				for n < 2 && i < len(expr) && hexVal(expr[i]) >= 0 {
					v = v*16 + hexVal(expr[i])
					i++
					n++
				}
				if n == 0 {
					return "", 0, errAt(expr, i-2, i, `\x must be followed by one or two hexadecimal digits.`)
				}
				b.WriteByte(byte(v))
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for n := 1; n < 3 && i < len(expr) && expr[i] >= '0' && expr[i] <= '7'; n++ {
					v = v*8 + int(expr[i]-'0')
					i++
				}
				if v > 0xFF {
					return "", 0, errAt(expr, i-4, i, "An octal escape is at most \\377.")
				}
				b.WriteByte(byte(v))
			case 'u', 'U':
				n := 4
				if e == 'U' {
					n = 8
				}
				if i+n > len(expr) {
					return "", 0, errAt(expr, i-2, len(expr), `\%c must be followed by %d hexadecimal digits.`, e, n)
				}
				v, err := strconv.ParseUint(expr[i:i+n], 16, 32)
				if err != nil {
					return "", 0, errAt(expr, i-2, i+n, `\%c must be followed by %d hexadecimal digits.`, e, n)
				}
				b.WriteRune(rune(v))
				i += n
			default:
				return "", 0, errAt(expr, i-2, i, `\%c is not a known escape sequence.`, e)
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, errAt(expr, start, len(expr), "The string was not terminated.")
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
