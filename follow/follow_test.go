package follow

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
)

func testSession() *session.Session {
	return &session.Session{
		Ends:  [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("[2001:db8::2]:80")},
		Start: time.Unix(1700000000, 0),
	}
}

// TestHexLine pins the layout of a row, and its text column for bytes
// that are not ASCII (one '.' per byte of each character's UTF-8 form,
// three for a byte that is not UTF-8).
func TestHexLine(t *testing.T) {
	for _, tc := range []struct {
		off  int
		row  string
		want string
	}{
		{0, "GET /eng", "00000000  47 45 54 20 2f 65 6e 67                          GET /eng"},
		{0x10, "a\r\n\tb\x00\x7f", "00000010  61 0d 0a 09 62 00 7f                             a...b.."},
		{0x123456789, "0123456789abcdef", "123456789  30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  0123456789abcdef"},
		{0, "é\n\xff", "00000000  c3 a9 0a ff                                      ......"},
		{0, "日\xe6\x9c", "00000000  e6 97 a5 e6 9c                                   ........."},
	} {
		if got := string(hexLine(nil, tc.off, []byte(tc.row))); got != tc.want {
			t.Errorf("hexLine(%#x, %q)\n got %q\nwant %q", tc.off, tc.row, got, tc.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb":       "a\nb",
		"a\rb\r":       "a.b.",
		"\t\x00\x1b[m": "\t..[m",
		"café":         "caf..",
	} {
		if got := printable([]byte(in)); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestWriteError: a failed write comes back as a *WriteError (a command
// tells it from a capture it cannot read), holding the writer's error.
func TestWriteError(t *testing.T) {
	boom := errors.New("boom")
	s := testSession()
	for name, v := range map[string]Writer{
		"text": Text(failWriter{boom}, render.NewTheme(false)),
		"hex":  Hex(failWriter{boom}, render.NewTheme(false)),
	} {
		err := v.Chunk(s, session.Chunk{Data: []byte("hello")})
		var we *WriteError
		if !errors.As(err, &we) || we.Err != boom {
			t.Errorf("%s: %v, want a *WriteError holding boom", name, err)
		}
	}
}
