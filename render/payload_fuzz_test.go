package render

import (
	"strings"
	"testing"
)

// FuzzPayloadNote: any payload gives a note ending in printable ASCII (an
// HTTP start line or strace-quoted bytes), never control bytes that would
// upset a terminal, and never more than strsize bytes of data.
func FuzzPayloadNote(f *testing.F) {
	f.Add([]byte("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"), 37, 32)
	f.Add([]byte("HTTP/1.1 200 OK\r\n"), 400, 32)
	f.Add([]byte("hello, TCP\n"), 11, 5)
	f.Add([]byte("\x1b[2J\r\n"), 6, 32)
	f.Fuzz(func(t *testing.T, p []byte, n, strsize int) {
		if strsize <= 0 || strsize > 1<<12 {
			return
		}
		const note = "11 bytes of data"
		out := string(AppendPayloadNote([]byte(note), p, n, strsize))
		if !strings.HasPrefix(out, note) {
			t.Fatalf("note changed: %q", out)
		}
		for i := len(note); i < len(out); i++ {
			if c := out[i]; c < ' ' || c >= 0x7f {
				t.Fatalf("byte %#x in %q", c, out)
			}
		}
		if n <= 0 || len(p) == 0 {
			if out != note {
				t.Fatalf("no data, yet %q", out)
			}
		}
	})
}
