package analysis

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
	"unicode/utf8"
)

// plainText reports whether s is text a JSON string (and a Go one) holds
// as it is: valid, printable UTF-8 with no double quote, backslash or
// control character, so strconv.Quote only adds the quotes around it.
func plainText(s string) bool {
	return utf8.ValidString(s) && strconv.Quote(s) == `"`+s+`"`
}

// TestNoteLiteralsPlain holds every string and rune literal in note.go,
// the file that writes a note's text, to what Note.AppendTo promises: no
// byte that a JSON string would have to escape. With the fuzz target's
// check of every note it makes (checkInvariants), this is what lets the
// JSON renderer copy a note between quotes unchecked. It fails, for
// example, if a note ever quotes a word ("\"GET\" request").
func TestNoteLiteralsPlain(t *testing.T) {
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "note.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(x ast.Node) bool {
		lit, ok := x.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING && lit.Kind != token.CHAR {
			return true
		}
		n++
		var s string
		if lit.Kind == token.CHAR {
			r, _, _, err := strconv.UnquoteChar(lit.Value[1:len(lit.Value)-1], '\'')
			if err != nil {
				t.Fatalf("%s: %v", fs.Position(lit.Pos()), err)
			}
			s = string(r)
		} else if s, err = strconv.Unquote(lit.Value); err != nil {
			t.Fatalf("%s: %v", fs.Position(lit.Pos()), err)
		}
		if !plainText(s) {
			t.Errorf("%s: literal %s has a character a JSON string must escape; the JSON renderer copies notes unescaped (see Note.AppendTo)", fs.Position(lit.Pos()), lit.Value)
		}
		return true
	})
	if n < 50 {
		t.Fatalf("only %d literals found in note.go: is it still where notes are written?", n)
	}
}
