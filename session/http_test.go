package session

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tcpscope/tcpscope/replay"
)

func followOf(t *testing.T, pcap string, stream int) *Session {
	t.Helper()
	f, err := replay.Open(filepath.Join("..", "pcaps", pcap), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Load(context.Background(), f, LoadOptions{Stream: stream, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHTTPMessages finds the messages of real HTTP sessions: counts and
// sizes were read off Wireshark's HTTP dissector for the same captures.
func TestHTTPMessages(t *testing.T) {
	for _, tc := range []struct {
		pcap                string
		stream              int
		requests, responses int
		firstStart          string
		firstBody           int // the first response's body length (its Content-Length)
	}{
		// One GET answered by a 503 with a 398-byte page, then a RST.
		{"pcapplusplus-one_http_stream_rst.pcap", 0, 1, 1, "HTTP/1.1 503 Service Temporarily Unavailable", 398},
		// 1000 requests over one connection; the first response's header
		// was lost from the capture (tshark: 999 http.response).
		{"zeek-http-1000-requests-one-dropped-response.pcap", 0, 1000, 999, "HTTP/1.1 200 OK", 615},
	} {
		s := followOf(t, tc.pcap, tc.stream)
		req := ParseHTTP(0, s.Follow.Bytes(0), nil)
		var methods []string
		for _, m := range req {
			methods = append(methods, m.Method)
		}
		resp := ParseHTTP(1, s.Follow.Bytes(1), methods)
		if len(req) != tc.requests || len(resp) != tc.responses {
			t.Errorf("%s: %d requests, %d responses; want %d, %d", tc.pcap, len(req), len(resp), tc.requests, tc.responses)
			continue
		}
		if resp[0].Start != tc.firstStart {
			t.Errorf("%s: first response %q, want %q", tc.pcap, resp[0].Start, tc.firstStart)
		}
		if resp[0].BodyLen != tc.firstBody || !resp[0].Complete {
			t.Errorf("%s: first response body %d bytes (complete %v), want %d", tc.pcap, resp[0].BodyLen, resp[0].Complete, tc.firstBody)
		}
		t.Logf("%s: first request %q (%d header bytes), first response %q body %d bytes complete=%v",
			tc.pcap, req[0].Start, req[0].HeadLen, resp[0].Start, resp[0].BodyLen, resp[0].Complete)
	}
}

func TestChunkedBody(t *testing.T) {
	msg := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
	ms := ParseHTTP(1, []byte(msg), []string{"GET", "GET"})
	if len(ms) != 2 || !ms[0].Chunked || !ms[0].Complete || ms[0].BodyLen != len("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n") || ms[1].Status != 204 || ms[1].BodyLen != 0 {
		t.Fatalf("got %+v", ms)
	}
}
