package session

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestHTTPStreamAgreesWithParse feeds streams to HTTPStream in random
// pieces and compares the messages with ParseHTTP's on the whole stream.
func TestHTTPStreamAgreesWithParse(t *testing.T) {
	req := strings.Join([]string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
		"garbage line\r\nmore\n",
		"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
		"GET /last HTTP/1.1\r\n\r\n",
	}, "")
	resp := strings.Join([]string{
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
		"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", // HEAD: no body
		"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nabcde\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody to the end of the connection",
	}, "")
	cases := map[string][2]string{
		"full":           {req, resp},
		"cut in a body":  {req[:len(req)-3], resp[:len(resp)-40]},
		"cut in a chunk": {req, resp[:strings.Index(resp, "0123")+4]},
		"bad chunk size": {req, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc"},
		"head cut":       {"GET / HTTP/1.1\r\nHost: a\r\n", "HTTP/1.1 200 OK\r\nContent-"},
		"zeros":          {"GET / HTTP/1.1\r\n\r\n" + strings.Repeat("\x00", 3000) + "\nGET /b HTTP/1.1\r\n\r\n", ""},
	}
	for name, c := range cases {
		want0 := ParseHTTP(0, []byte(c[0]), nil)
		var methods []string
		for _, m := range want0 {
			methods = append(methods, m.Method)
		}
		want1 := ParseHTTP(1, []byte(c[1]), methods)
		for seed := uint64(0); seed < 30; seed++ {
			rng := rand.New(rand.NewPCG(seed, 1))
			var q []string
			var got [2][]HTTPMessage
			var hs [2]*HTTPStream
			for d := range hs {
				hs[d] = &HTTPStream{Dir: d, Methods: &q, Done: func(m HTTPMessage) { got[d] = append(got[d], m) }}
			}
			// Requests go first, as they do on the wire.
			for d, text := range c {
				for len(text) > 0 {
					n := min(len(text), 1+rng.IntN(40))
					hs[d].Write([]byte(text[:n]))
					text = text[n:]
				}
				hs[d].Close()
			}
			for d, want := range [][]HTTPMessage{want0, want1} {
				if len(got[d]) == 0 && len(want) == 0 {
					continue
				}
				if !reflect.DeepEqual(got[d], want) {
					t.Fatalf("%s, seed %d, dir %d:\n got %+v\nwant %+v", name, seed, d, got[d], want)
				}
			}
		}
	}
}

// FuzzHTTPStream: whatever the bytes and however they are split, the
// incremental parser finds the messages ParseHTTP finds in the whole
// stream (heads stay far below MaxHTTPHead here).
func FuzzHTTPStream(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), uint64(1))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\nx\nHTTP/1.0 204 No\r\n\r\n"), uint64(7))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		if len(data) > 1<<16 {
			return
		}
		for _, d := range []int{0, 1} {
			want := ParseHTTP(d, data, nil)
			var got []HTTPMessage
			h := &HTTPStream{Dir: d, Done: func(m HTTPMessage) { got = append(got, m) }}
			rng := rand.New(rand.NewPCG(seed, 3))
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(64))
				h.Write(rest[:n])
				rest = rest[n:]
			}
			h.Close()
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("dir %d:\n got %+v\nwant %+v", d, got, want)
			}
		}
	})
}
