package pipeline_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/inetsum"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// poisonHeads is a frame.HeadAppender that copies a frame's first n bytes
// and fills the rest with 0xEE, so a pipeline that read past what it asked
// for would decode garbage. FillLast copies the frame whole.
type poisonHeads struct {
	src   frame.Source
	last  []byte
	heads int // frames returned as heads only
	fills int // FillLast calls
}

// poisonSums is poisonHeads as a frame.HeadSummer: it can also add up the
// bytes it poisoned, as replay's mapped reader does.
type poisonSums struct {
	poisonHeads
	off  int // the last frame's Tail.Off
	sums int // SumLast calls
}

func (p *poisonSums) NextAppendHead(buf []byte, n int) (frame.Frame, []byte, error) {
	f, buf, err := p.poisonHeads.NextAppendHead(buf, n)
	p.off = f.Tail.Off
	return f, buf, err
}

func (p *poisonSums) SumLast() (uint16, error) {
	p.sums++
	return inetsum.Fold(inetsum.Add(p.last[p.off:], 0)), nil
}

// poisonTails is poisonSums as a frame.TailReader: it keeps every frame's
// bytes, so that the rest of any frame can be asked for later, from the
// analysing goroutine.
type poisonTails struct {
	poisonSums
	mu     sync.Mutex // frames and the counters: the reader and the analyser
	frames map[int][]byte
}

func (p *poisonTails) NextAppendHead(buf []byte, n int) (frame.Frame, []byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, buf, err := p.poisonSums.NextAppendHead(buf, n)
	if err == nil {
		if p.frames == nil {
			p.frames = map[int][]byte{}
		}
		p.frames[f.Meta.Number] = append([]byte(nil), p.last...)
	}
	return f, buf, err
}

func (p *poisonTails) ReadTail(f frame.Frame) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fills++
	copy(f.Data[f.Tail.Off:], p.frames[f.Meta.Number][f.Tail.Off:])
	return nil
}

func (p *poisonTails) SumTail(f frame.Frame) (uint16, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sums++
	return inetsum.Fold(inetsum.Add(p.frames[f.Meta.Number][f.Tail.Off:], 0)), nil
}

// poisonBatches is poisonTails as a frame.HeadBatcher: the reading
// goroutine takes its heads a batch at a time (readHeads).
type poisonBatches struct {
	poisonTails
	batches int
	eager   int // tails summed as read
}

func (p *poisonBatches) NextHeads(buf []byte, n int, sum bool, out []frame.Frame) (k int, _ []byte, err error) {
	p.batches++
	for k = range out {
		if k == 37 {
			return k, buf, nil // as if the next frame did not fit: a short batch
		}
		if out[k], buf, err = p.poisonTails.NextAppendHead(buf, n); err != nil {
			return k, buf, err
		}
		// Every other batch summed, the others not (a source may not):
		// the sums missing are then asked for (SumTail).
		if t := &out[k].Tail; sum && t.Off > 0 && p.batches%2 == 0 {
			t.Summed, t.Sum = true, inetsum.Fold(inetsum.Add(p.last[t.Off:], 0))
			p.eager++
		}
	}
	return len(out), buf, nil
}

func (p *poisonHeads) Next() (frame.Frame, error) { return p.src.Next() }

func (p *poisonHeads) NextAppend(buf []byte) (frame.Frame, []byte, error) {
	return p.NextAppendHead(buf, -1)
}

func (p *poisonHeads) NextAppendHead(buf []byte, n int) (frame.Frame, []byte, error) {
	f, err := p.src.Next()
	if err != nil {
		return f, buf, err
	}
	p.last = append(p.last[:0], f.Data...)
	at := len(buf)
	buf = append(buf, f.Data...)
	if n >= 0 && len(f.Data) > n {
		p.heads++
		for i := at + n; i < len(buf); i++ {
			buf[i] = 0xEE
		}
		f.Tail = frame.Tail{Off: n}
	}
	f.Data = buf[at:len(buf):len(buf)]
	return f, buf, nil
}

func (p *poisonHeads) FillLast(data []byte) error {
	p.fills++
	copy(data, p.last)
	return nil
}

// TestHeadersOnlySameItems: a HeadersOnly pipeline (tcpscope stats's) gives
// every shipped capture's frames the same decoding and analysis as one
// that copies every byte, though the payload bytes it was given are
// garbage: it reads none of them, and copies a frame whole when its headers
// lie deeper, it is a fragment or an ICMP error, or it is not TCP.
func TestHeadersOnlySameItems(t *testing.T) {
	t.Run("no checksums", func(t *testing.T) { testHeadersOnly(t, decode.DecodeOptions{SkipChecksums: true}) })
	t.Run("checksums", func(t *testing.T) { testHeadersOnly(t, decode.DecodeOptions{}) })
	t.Run("bad checksums only", func(t *testing.T) { testHeadersOnly(t, decode.DecodeOptions{BadChecksumsOnly: true}) })
	// Decoded on the analysing goroutine, the rest of a frame read when
	// needed from a frame.TailReader (see decodeLate).
	for name, opts := range map[string]decode.DecodeOptions{"late, no checksums": {SkipChecksums: true}, "late, checksums": {}, "late, bad checksums only": {BadChecksumsOnly: true}} {
		t.Run(name, func(t *testing.T) { testHeadersOnlyLate(t, opts) })
	}
	// Each batch decoded by whichever goroutine is idle.
	for name, opts := range map[string]decode.DecodeOptions{"where idle, no checksums": {SkipChecksums: true}, "where idle, checksums": {}, "where idle, bad checksums only": {BadChecksumsOnly: true}} {
		t.Run(name, func(t *testing.T) { testHeadersWhereIdle(t, opts) })
	}
}

// eachCapture calls fn with every shipped capture that opens and what a
// pipeline copying every byte of it makes of it: the items the headers-only
// ways are held to.
func eachCapture(t *testing.T, opts decode.DecodeOptions, fn func(path string, want []view, wantErr error)) {
	files, _ := filepath.Glob("../pcaps/*.pcap*")
	for _, path := range files {
		if f, err := replay.Open(path, nil); err != nil {
			continue
		} else {
			f.Close()
		}
		want, wantErr := collectHeads(t, path, nil, opts)
		fn(path, want, wantErr)
	}
}

// testHeadersWhereIdle is testHeadersOnly for a DecodeWhereIdle pipeline
// over a source of heads in batches: every batch, whether the reader
// decoded it or left it to the analysing goroutine, gives the items a
// pipeline that copies every byte gives.
func testHeadersWhereIdle(t *testing.T, opts decode.DecodeOptions) {
	late, here := 0, 0
	eachCapture(t, opts, func(path string, want []view, wantErr error) {
		o := pipeline.Options{Parallel: true, AnalysisStage: true, DecodeWhereIdle: true, HeadersOnly: true, Decode: opts}
		var pb poisonBatches
		got, gotErr := collectHeadsThen(t, path, &pb, o, func(pl *pipeline.Pipeline) {
			l, h := pl.WhereIdleBatches()
			late, here = late+l, here+h
			if l+h != pb.batches {
				t.Errorf("%s: %d batches read, %d left to the analysis and %d decoded by the reader", path, pb.batches, l, h)
			}
		})
		sameViews(t, path+" (decoded where idle)", want, wantErr, got, gotErr)
	})
	t.Logf("%d batches decoded by the analysing goroutine, %d by the reader", late, here)
	if late == 0 || here == 0 {
		t.Errorf("%d batches decoded by the analysing goroutine, %d by the reader: want both", late, here)
	}
}

// testHeadersOnlyLate is testHeadersOnly for a pipeline with AnalysisStage
// over a frame.TailReader.
func testHeadersOnlyLate(t *testing.T, opts decode.DecodeOptions) {
	heads, fills, sums, batches := 0, 0, 0, 0
	eachCapture(t, opts, func(path string, want []view, wantErr error) {
		o := pipeline.Options{Parallel: true, AnalysisStage: true, DecodeLate: true, HeadersOnly: true, Decode: opts}
		var pt poisonTails
		got, gotErr := collectHeadsWith(t, path, &pt, o)
		heads, fills, sums = heads+pt.heads, fills+pt.fills, sums+pt.sums
		sameViews(t, path+" (decoded late)", want, wantErr, got, gotErr)
		// The same, a batch of heads at a time.
		var pb poisonBatches
		got, gotErr = collectHeadsWith(t, path, &pb, o)
		batches += pb.batches
		sameViews(t, path+" (decoded late, heads in batches)", want, wantErr, got, gotErr)
	})
	if heads < 5000 || fills < 10 || !opts.SkipChecksums && sums < 100 {
		t.Errorf("%d heads, %d read whole later, %d summed later: the captures no longer exercise each", heads, fills, sums)
	}
	if batches < 100 {
		t.Errorf("only %d batches of heads read", batches)
	}
}

// testHeadersOnly is TestHeadersOnlySameItems without checksums (stats) or
// with them (replay: the source adds up the bytes it does not copy, when
// asked, and every verdict must be the one from every byte).
func testHeadersOnly(t *testing.T, opts decode.DecodeOptions) {
	checksums := !opts.SkipChecksums
	heads, fills, sums, batches, eager := 0, 0, 0, 0, 0
	partialHeads := 0 // frames read as heads whose checksum is partial
	verdicts := map[string]int{}
	eachCapture(t, opts, func(path string, want []view, wantErr error) {
		var ps poisonSums
		var src headSource = &ps.poisonHeads
		if checksums {
			src = &ps
		}
		got, gotErr := collectHeads(t, path, src, opts)
		sums += ps.sums
		ph := &ps.poisonHeads
		heads, fills = heads+ph.heads, fills+ph.fills
		for _, v := range want {
			verdicts[v.Data]++
			if strings.HasPrefix(v.Data, "tcp "+decode.ChecksumPartial.String()) && v.Meta.(frame.Meta).CapLen > 192 {
				partialHeads++
			}
		}
		sameViews(t, path, want, wantErr, got, gotErr)
		// Heads a batch at a time, decoded by the reader after each
		// (readHeads), the rest read or summed from the second window,
		// or summed as read.
		var pb poisonBatches
		got, gotErr = collectHeads(t, path, &pb, opts)
		batches, eager = batches+pb.batches, eager+pb.eager
		sameViews(t, path+" (heads in batches)", want, wantErr, got, gotErr)
	})
	if batches < 100 {
		t.Errorf("only %d batches of heads read", batches)
	}
	if exact := checksums && !opts.BadChecksumsOnly; exact != (eager > 1000) {
		t.Errorf("%d tails summed as they were read, with exact checksums %v", eager, exact)
	}
	// The test means something only if both paths were taken often.
	if heads < 5000 || fills < 10 {
		t.Errorf("%d frames read as heads, %d copied again whole: the captures no longer exercise both", heads, fills)
	}
	tcpVerdicts := map[string]int{}
	for v, n := range verdicts {
		v, _, _ = strings.Cut(v, ";")
		tcpVerdicts[v] += n
	}
	if checksums && (tcpVerdicts["tcp ok"] < 1000 || tcpVerdicts["tcp bad"] < 1 || tcpVerdicts["tcp "+decode.ChecksumPartial.String()] < 100) {
		t.Errorf("TCP checksum verdicts %v: the captures no longer exercise each", verdicts)
	}
	// Summed where they are only when decode needs it: never without
	// checksums, and with BadChecksumsOnly not for the partial ones.
	switch {
	case !checksums && sums != 0:
		t.Errorf("%d frames summed without checksums", sums)
	case checksums && !opts.BadChecksumsOnly && sums < partialHeads:
		t.Errorf("%d frames summed of %d read as heads, %d of them with a partial checksum", sums, heads, partialHeads)
	case opts.BadChecksumsOnly && (sums > heads-partialHeads || partialHeads < 1000):
		t.Errorf("%d frames summed of %d read as heads, %d of them with a partial checksum", sums, heads, partialHeads)
	}
}

// sameViews reports where the items (and final error) of a headers-only
// pipeline differ from those of one that copied every byte.
func sameViews(t *testing.T, what string, want []view, wantErr error, got []view, gotErr error) {
	t.Helper()
	if errString(wantErr) != errString(gotErr) {
		t.Errorf("%s: error %v, headers only %v", what, wantErr, gotErr)
	}
	if len(want) != len(got) {
		t.Errorf("%s: %d items, headers only %d", what, len(want), len(got))
		return
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			t.Errorf("%s: item %d differs with headers only:\n%+v\n%+v", what, i, want[i], got[i])
			return
		}
	}
}

// headSource is what collectHeads reads from: a poisonHeads or poisonSums.
type headSource interface {
	frame.HeadAppender
	setSource(frame.Source)
}

func (p *poisonHeads) setSource(src frame.Source) { p.src = src }

// collectHeads runs a parallel pipeline with or without checksums,
// HeadersOnly over ph when it is not nil, and returns what a caller may
// look at (not the payload bytes; Data holds the TCP checksum verdict).
func collectHeads(t *testing.T, path string, ph headSource, opts decode.DecodeOptions) ([]view, error) {
	return collectHeadsWith(t, path, ph, pipeline.Options{Parallel: true, HeadersOnly: ph != nil, Decode: opts})
}

func collectHeadsWith(t *testing.T, path string, ph headSource, o pipeline.Options) ([]view, error) {
	return collectHeadsThen(t, path, ph, o, nil)
}

// collectHeadsThen is collectHeadsWith, calling after with the pipeline
// once it is closed.
func collectHeadsThen(t *testing.T, path string, ph headSource, o pipeline.Options, after func(*pipeline.Pipeline)) ([]view, error) {
	f, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var src frame.Source = f
	if ph != nil {
		ph.setSource(f)
		src = ph
	}
	pl := pipeline.NewWith(src, analysis.New(analysis.Options{}), o)
	defer func() {
		pl.Close()
		if after != nil {
			after(pl)
		}
	}()
	var out []view
	for {
		it, err := pl.NextRef()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		verdict := ""
		if it.Packet.TCP != nil && it.Packet.TCPChecksum != decode.ChecksumUnverified {
			verdict = "tcp " + it.Packet.TCPChecksum.String()
		}
		if it.Packet.IPVersion == 4 && it.Packet.IPChecksum != decode.ChecksumUnverified {
			verdict += "; ip " + it.Packet.IPChecksum.String()
		}
		out = append(out, view{it.Frame.Meta, verdict, errString(it.DecodeErr), it.Analyzed,
			it.Result, it.Result.Note.String(), it.Packet.PayloadLen})
	}
}

// TestHeadersOnlyDeepHeaders: a TCP header past the bytes a HeadersOnly
// pipeline copies first (IPv6 with a 256-byte destination-options header)
// is found all the same: the frame is copied again whole.
func TestHeadersOnlyDeepHeaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deep.pcap")
	var file []byte
	file = append(file, 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0)
	seg := func(i int, fromClient bool, flags byte, seq, ack uint32, payload int) {
		var f []byte
		f = append(f, make([]byte, 12)...)
		f = append(f, 0x86, 0xdd)
		ipLen := 256 + 20 + payload
		f = append(f, 0x60, 0, 0, 0, byte(ipLen>>8), byte(ipLen), 60, 64)
		a, b := make([]byte, 16), make([]byte, 16)
		a[15], b[15] = 1, 2
		if !fromClient {
			a, b = b, a
		}
		f = append(f, a...)
		f = append(f, b...)
		f = append(f, 6, 31, 1, 252) // destination options: next TCP, 256 bytes, one PadN
		f = append(f, make([]byte, 252)...)
		sp, dp := 40000, 80
		if !fromClient {
			sp, dp = dp, sp
		}
		f = append(f, byte(sp>>8), byte(sp), byte(dp>>8), byte(dp),
			byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq),
			byte(ack>>24), byte(ack>>16), byte(ack>>8), byte(ack),
			5<<4, flags, 0xff, 0xff, 0, 0, 0, 0)
		f = append(f, make([]byte, payload)...)
		n := len(f)
		file = append(file, byte(i), 0, 0, 0, 0, 0, 0, 0, byte(n), byte(n>>8), 0, 0, byte(n), byte(n>>8), 0, 0)
		file = append(file, f...)
	}
	const syn, ack, psh = 0x02, 0x10, 0x08
	seg(1, true, syn, 1000, 0, 0)
	seg(2, false, syn|ack, 5000, 1001, 0)
	seg(3, true, ack, 1001, 5001, 0)
	seg(4, true, psh|ack, 1001, 5001, 100)
	seg(5, true, psh|ack, 1001, 5001, 100) // a retransmission
	seg(6, false, ack, 5001, 1101, 0)
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	skip := decode.DecodeOptions{SkipChecksums: true}
	want, _ := collectHeads(t, path, nil, skip)
	var ph poisonHeads
	got, _ := collectHeads(t, path, &ph, skip)
	if len(want) != 6 || !want[4].Analyzed || want[4].Result.Flags&analysis.Retransmission == 0 {
		t.Fatalf("the capture is not what the test means: %+v", want)
	}
	if !reflect.DeepEqual(want, got) || ph.fills != 6 {
		t.Errorf("headers only (%d frames copied again):\n%+v\nwant\n%+v", ph.fills, got, want)
	}
}
