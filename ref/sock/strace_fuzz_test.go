package sock

import (
	"bytes"
	"strings"
	"testing"
)

// unquoteC reads back a string AppendQuoted wrote (C escapes, octal of one
// to three digits), without the quotes and the "..." after them.
func unquoteC(t *testing.T, s string) []byte {
	t.Helper()
	s = strings.TrimSuffix(s, "...")
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		t.Fatalf("not quoted: %q", s)
	}
	s = s[1 : len(s)-1]
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c >= 0x7f {
			t.Fatalf("raw byte %#x in %q", c, s)
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'v':
			out = append(out, '\v')
		case 'f':
			out = append(out, '\f')
		case 'r':
			out = append(out, '\r')
		case '"', '\\':
			out = append(out, e)
		default:
			v := 0
			n := 0
			for n < 3 && i < len(s) && s[i] >= '0' && s[i] <= '7' {
				v = v*8 + int(s[i]-'0')
				i++
				n++
			}
			if n == 0 || v > 255 {
				t.Fatalf("bad escape in %q", s)
			}
			i--
			out = append(out, byte(v))
		}
	}
	return out
}

// FuzzAppendQuoted: whatever the bytes, strace's quoting reads back as the
// same bytes (the first strsize of them), in printable ASCII, with "..."
// exactly when bytes were left out.
func FuzzAppendQuoted(f *testing.F) {
	f.Add([]byte("hello, world\n"), 32)
	f.Add([]byte("\x01234\n\x0012"), 32)
	f.Add([]byte("\xff\x00\"\\\t\r 0123456789"), 5)
	f.Fuzz(func(t *testing.T, p []byte, strsize int) {
		if strsize <= 0 || strsize > 1<<12 {
			return
		}
		q := string(AppendQuoted(nil, p, strsize))
		want := p[:min(len(p), strsize)]
		if got := unquoteC(t, q); !bytes.Equal(got, want) {
			t.Fatalf("%q reads back as %q, want %q", q, got, want)
		}
		if strings.HasSuffix(q, "...") != (len(p) > strsize) {
			t.Fatalf("%q: \"...\" for %d bytes cut at %d", q, len(p), strsize)
		}
	})
}
