package render

import (
	"bytes"
	"strings"
	"testing"
)

func TestWidth(t *testing.T) {
	for _, c := range []struct {
		s string
		w int
	}{
		{"abc", 3},
		{"a → b", 5},
		{"▸ 41 µs", 7},
		{"\x1b[36m127.0.0.1\x1b[0m", 9},
		{"\x1b[35;1m[SYN]\x1b[0;22m", 5},
		{"日本", 4},
	} {
		if got := Width(c.s); got != c.w {
			t.Errorf("Width(%q) = %d, want %d", c.s, got, c.w)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		line   string
		width  int
		indent int
		want   string
	}{
		{"short line", 20, 4, "short line\n"},
		{"one two three four five", 10, 2, "one two\n  three\n  four\n  five\n"},
		{"  ▸ a note → with arrows and µs", 14, 4, "  ▸ a\n    note →\n    with\n    arrows and\n    µs\n"},
		{"x; client: CLOSED → SYN-SENT", 20, 2, "x;\n  client: CLOSED →\n  SYN-SENT\n"},
		{"done; client: CLOSED → SYN-SENT", 30, 2, "done;\n  client: CLOSED → SYN-SENT\n"},
		{"#1 0.1 80 -> 55920 [SYN]", 13, 2, "#1 0.1\n  80 -> 55920\n  [SYN]\n"},
		{"abcdefghijklmnop", 6, 2, "abcdef\n  ghij\n  klmn\n  op\n"},
		{"no wrap at all", 0, 2, "no wrap at all\n"},
		{"\x1b[1mbold words\x1b[22m here", 10, 0, "\x1b[1mbold words\x1b[22m\nhere\n"},
	} {
		got := string(Wrap(nil, c.line, c.width, c.indent))
		if got != c.want {
			t.Errorf("Wrap(%q, %d, %d) = %q, want %q", c.line, c.width, c.indent, got, c.want)
		}
		for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			if c.width > 0 && Width(l) > c.width {
				t.Errorf("Wrap(%q, %d): line %q is %d wide", c.line, c.width, l, Width(l))
			}
		}
	}
}

func TestScreen(t *testing.T) {
	var b bytes.Buffer
	s := &Screen{W: &b, Width: 20, ASCII: true}
	s.Write([]byte("  stream 0: client 127.0.0.1:5 → server"))
	if b.Len() != 0 {
		t.Errorf("a partial line was written: %q", b.String())
	}
	s.Write([]byte(" 127.0.0.1:80\nok\n"))
	s.Write([]byte("\rprogress 50%"))
	s.Write([]byte("tail ▸"))
	s.Flush()
	want := "  stream 0: client\n      127.0.0.1:5\n      -> server\n      127.0.0.1:80\nok\n\rprogress 50%tail >"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}
