package capture

import (
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/internal/testroot"
)

// TestStopKeepsBufferedPackets: segments sent just before Stop are still
// returned by Next. Without immediate mode libpcap hands packets over in
// blocks that are retired when full or 100 ms old, so a Stop that ended
// the capture at once would lose the last, half-filled block (every
// segment of this short exchange). With immediate mode they are in the
// ring too and must be read out.
func TestStopKeepsBufferedPackets(t *testing.T) {
	testroot.Need(t)
	for _, immediate := range []bool{false, true} {
		t.Run(fmt.Sprintf("immediate=%v", immediate), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			h, err := Open(Options{Interface: Loopback(), Snaplen: HeaderSnaplen, Immediate: immediate,
				Filter: fmt.Sprintf("tcp port %d", port)})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()

			// A connection, 20 writes, each echoed as an ACK; then Stop at
			// once, before libpcap's 100 ms block timeout.
			done := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err == nil {
					_, err = io.Copy(io.Discard, c)
					c.Close()
				}
				done <- err
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.(*net.TCPConn).SetNoDelay(true)
			for i := 0; i < 20; i++ {
				if _, err := c.Write([]byte("hello\n")); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			h.Stop()

			var data, fins int
			for {
				f, err := h.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var p decode.Packet
				if err := decode.Decode(f, &p); err != nil || p.TCP == nil {
					t.Fatalf("frame %d: %v", f.Meta.Number, err)
				}
				if p.TCP.Flags()&decode.FlagFIN != 0 {
					fins++
				}
				if p.PayloadLen > 0 {
					data += p.PayloadLen
				}
			}
			if data != 20*6 || fins != 2 {
				t.Errorf("after Stop: read %d payload bytes and %d FINs; want 120 and 2", data, fins)
			}
		})
	}
}
