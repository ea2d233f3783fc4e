package view

import (
	"bufio"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

// writeSynthetic writes a pcap of n frames: conns connections taking turns,
// each a handshake then data segments (64 bytes captured of 1448 sent)
// each answered by an ACK, every 997th data segment sent twice (a
// retransmission for the analyzer to find). Header checksums are left 0:
// the index skips checksums.
func writeSynthetic(tb testing.TB, path string, n, conns int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xA1B2C3D4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 128)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // Ethernet
	w.Write(hdr[:])
	type conn struct {
		cseq, sseq uint32
		step       int
	}
	cs := make([]conn, conns)
	var pkt [14 + 20 + 20 + 64]byte
	put := func(i, k int, fromClient bool, flags byte, seq, ack uint32, payload int) {
		capLen := 14 + 20 + 20 + min(payload, 64)
		wire := 14 + 20 + 20 + payload
		p := pkt[:capLen]
		clear(p)
		p[12], p[13] = 0x08, 0x00
		ip := p[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 6
		binary.BigEndian.PutUint16(ip[2:], uint16(wire-14))
		cli := [4]byte{10, 0, byte(k >> 8), byte(k)}
		srv := [4]byte{10, 1, 0, 1}
		cport, sport := uint16(20000+k), uint16(80)
		src, dst, sp, dp := cli, srv, cport, sport
		if !fromClient {
			src, dst, sp, dp = srv, cli, sport, cport
		}
		copy(ip[12:], src[:])
		copy(ip[16:], dst[:])
		t := ip[20:]
		binary.BigEndian.PutUint16(t[0:], sp)
		binary.BigEndian.PutUint16(t[2:], dp)
		binary.BigEndian.PutUint32(t[4:], seq)
		binary.BigEndian.PutUint32(t[8:], ack)
		t[12], t[13] = 0x50, flags
		binary.BigEndian.PutUint16(t[14:], 65535)
		var rec [16]byte
		us := int64(i) * 10
		binary.LittleEndian.PutUint32(rec[0:], uint32(1_700_000_000+us/1e6))
		binary.LittleEndian.PutUint32(rec[4:], uint32(us%1e6))
		binary.LittleEndian.PutUint32(rec[8:], uint32(capLen))
		binary.LittleEndian.PutUint32(rec[12:], uint32(wire))
		w.Write(rec[:])
		w.Write(p)
	}
	const syn, ack, psh = 0x02, 0x10, 0x08
	for i := 0; i < n; {
		k := i % conns
		c := &cs[k]
		switch {
		case c.step == 0:
			c.cseq, c.sseq = uint32(k)*7919, uint32(k)*104729
			put(i, k, true, syn, c.cseq, 0, 0)
		case c.step == 1:
			put(i, k, false, syn|ack, c.sseq, c.cseq+1, 0)
			c.cseq++
			c.sseq++
		case c.step%2 == 0:
			put(i, k, true, psh|ack, c.cseq, c.sseq, 1448)
			if c.step%997 == 0 {
				i++
				put(i, k, true, psh|ack, c.cseq, c.sseq, 1448)
			}
			c.cseq += 1448
		default:
			put(i, k, false, ack, c.sseq, c.cseq, 0)
		}
		c.step++
		i++
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// benchFrames is the size of the capture issue 16 names: 1.35 M packets.
const benchFrames = 1_350_000

// BenchmarkViewFirstScreen measures the time from opening a 1.35 M-frame
// capture to the first screen drawn (on a simulated 120×40 terminal),
// while the index is still being built.
func BenchmarkViewFirstScreen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.pcap")
	writeSynthetic(b, path, benchFrames, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		v := openSim(b, ctx, path)
		for v.idx.Len() < 40 {
			<-v.idx.Changed()
		}
		v.draw()
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/first-screen")
		if row := simLine(v.s, 0); !strings.HasPrefix(row, ">#1 ") {
			b.Fatalf("first row %q", row)
		}
		cancel()
		v.idx.Wait(context.Background())
		v.fr.Close()
		v.s.Fini()
	}
}

// BenchmarkViewIndex measures indexing a whole 1.35 M-frame capture, the
// process's peak RSS meanwhile (VmHWM, reset before) and the memory the
// finished index holds; then going to frames across the file.
func BenchmarkViewIndex(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.pcap")
	writeSynthetic(b, path, benchFrames, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM (Linux)
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		v := openSim(b, ctx, path)
		if err := v.idx.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/index")
		if v.idx.Len() != benchFrames {
			b.Fatalf("indexed %d frames", v.idx.Len())
		}
		// Going anywhere is a lookup and one read of the file.
		t := time.Now()
		for _, n := range []int{benchFrames, 1, benchFrames / 2, 777_777, 12345} {
			v.gotoFrame(n)
			v.draw()
			if v.selected() != n {
				b.Fatalf("went to %d, selected %d", n, v.selected())
			}
		}
		b.ReportMetric(float64(time.Since(t).Microseconds())/5000, "ms/goto")
		if hwm := vmHWM(); hwm > 0 {
			b.ReportMetric(float64(hwm)/1024, "MB-peak-RSS")
		}
		cancel()
		v.fr.Close()
		v.s.Fini()
	}
}

// openSim opens path in a view drawn on a 120×40 simulation screen.
func openSim(tb testing.TB, ctx context.Context, path string) *view {
	idx, err := Build(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	fr, err := OpenFrames(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		tb.Fatal(err)
	}
	s.SetSize(120, 40)
	v := &view{o: Options{Path: path}, s: s, idx: idx, fr: fr, st: newStyles(false), lit: -1}
	v.list = allRows(idx)
	return v
}

// simLine returns row y of a simulation screen as text.
func simLine(s tcell.Screen, y int) string {
	w, _ := s.Size()
	var b strings.Builder
	for x := 0; x < w; x++ {
		r, _, _, _ := s.GetContent(x, y)
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// vmHWM is the process's peak resident set in KiB (0 when unknown).
func vmHWM() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}
