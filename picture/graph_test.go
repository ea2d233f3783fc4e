package picture

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/session"
)

// TestGraphIsValidSVG parses the SVG of a lossy session with encoding/xml
// and counts what it must show: a bar per data segment (retransmissions in
// their own colour), SACK bands and RTT points.
func TestGraphIsValidSVG(t *testing.T) {
	s := load(t, "zeek-tcp-retransmit-fast009.pcap", 0)
	var buf bytes.Buffer
	if err := Graph(&buf, s, GraphOptions{Dir: -1}); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	counts := map[string]int{}
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not valid XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			for _, a := range se.Attr {
				if a.Name.Local == "stroke" || a.Name.Local == "fill" {
					counts[se.Name.Local+" "+a.Value]++
				}
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	var data, retrans int
	for _, g := range s.Segments {
		if g.Dir == 1 && g.Len > 0 {
			data++
			if g.Verdict&0x7 != 0 {
				retrans++
			}
		}
	}
	if got := counts["path "+colData] + counts["path "+colRetrans] + counts["path "+colOutOfOrder]; got != data+1 { // +1: the RTT line
		t.Errorf("%d data bars and RTT line, want %d data segments + 1", got, data)
	}
	if got := counts["path "+colRetrans]; got != retrans || retrans != 3 {
		t.Errorf("%d red bars, %d retransmissions in the stream; want 3 (frames 32, 34, 36)", got, retrans)
	}
	if counts["rect "+colSACK] < 5 {
		t.Errorf("%d SACK bands, want at least 5 (frames 29-37 carry SACK blocks)", counts["rect "+colSACK])
	}
	if counts["circle "+colData] < 1 {
		t.Error("no RTT point")
	}
}

// TestGraphRendersInChromium opens the SVG in headless Chromium and checks
// that the screenshot is a picture: enough non-white pixels, and the red of
// the retransmissions among them. Without chromium the test is skipped,
// except in CI (CI=true), where it must run.
func TestGraphRendersInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (CI=true requires it): DEBIAN_FRONTEND=noninteractive apt-get install -y chromium")
		}
		t.Skip("chromium is not installed; skipping the rendering check (apt-get install chromium to run it)")
	}
	dir := t.TempDir()
	svg := filepath.Join(dir, "graph.svg")
	out := filepath.Join(dir, "graph.png")
	f, err := os.Create(svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := Graph(f, load(t, "zeek-tcp-retransmit-fast009.pcap", 0), GraphOptions{Dir: -1}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+out, "--window-size=1600,1000", svg)
	cmd.Dir = dir
	done := make(chan error, 1)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, tail(stderr.String()))
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("chromium did not finish in 90 s")
	}
	pf, err := os.Open(out)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, tail(stderr.String()))
	}
	defer pf.Close()
	img, err := png.Decode(pf)
	if err != nil {
		t.Fatal(err)
	}
	ink, red := inkAndRed(img)
	total := img.Bounds().Dx() * img.Bounds().Dy()
	t.Logf("%dx%d screenshot: %.1f%% non-white pixels, %d red", img.Bounds().Dx(), img.Bounds().Dy(), 100*float64(ink)/float64(total), red)
	if ink < total/100 {
		t.Errorf("only %d of %d pixels are not white: the picture is blank", ink, total)
	}
	if red < 200 {
		t.Errorf("only %d red pixels: the retransmissions are not drawn", red)
	}
}

// inkAndRed counts pixels that are not near-white, and those close to the
// retransmission red (#d62728).
func inkAndRed(img image.Image) (ink, red int) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r < 240 || g < 240 || bl < 240 {
				ink++
			}
			if r > 190 && g < 80 && bl < 80 {
				red++
			}
		}
	}
	return ink, red
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}

// TestGraphScalesToData: a 1 ms exchange that starts 1.3 s into its
// connection (a SYN sent again after a loss) and is followed by a FIN
// retransmitted for a second spreads over the width of the plot, not a dot
// at one edge; the window edge (a 64 KiB window over 300 bytes) is drawn
// inside the panel, held at its top, and labelled.
func TestGraphScalesToData(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }
	const syn, ack, fin = analysis.SYN, analysis.ACK, analysis.FIN
	segs := []session.Segment{
		{Frame: 1, Time: at(0), Dir: 0, Flags: syn},
		{Frame: 2, Time: at(1000), Dir: 0, Flags: syn},
		{Frame: 3, Time: at(1300), Dir: 1, Flags: syn | ack, Ack: 1, Win: 65535},
		{Frame: 4, Time: at(1300.05), Dir: 0, Flags: ack, Seq: 1, Ack: 1, Win: 65535},
		{Frame: 5, Time: at(1300.1), Dir: 0, Flags: ack, Seq: 1, Ack: 1, Len: 100, Win: 65535},
		{Frame: 6, Time: at(1300.2), Dir: 1, Flags: ack, Seq: 1, Ack: 101, Win: 65535, HasAckRTT: true, AckRTT: 100 * time.Microsecond},
		{Frame: 7, Time: at(1300.5), Dir: 0, Flags: ack, Seq: 101, Ack: 1, Len: 100, Win: 65535},
		{Frame: 8, Time: at(1300.6), Dir: 0, Flags: ack, Seq: 201, Ack: 1, Len: 100, Win: 65535},
		{Frame: 9, Time: at(1301), Dir: 1, Flags: ack, Seq: 1, Ack: 301, Win: 65535, HasAckRTT: true, AckRTT: 400 * time.Microsecond},
		{Frame: 10, Time: at(1301.1), Dir: 0, Flags: fin | ack, Seq: 301, Ack: 1, Win: 65535},
		{Frame: 11, Time: at(1500), Dir: 0, Flags: fin | ack, Seq: 301, Ack: 1, Win: 65535},
		{Frame: 12, Time: at(2300), Dir: 1, Flags: fin | ack, Seq: 1, Ack: 302, Win: 65535},
	}
	s := &session.Session{Stream: 0, Start: t0, Segments: segs,
		Ends: [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	var buf bytes.Buffer
	if err := Graph(&buf, s, GraphOptions{Dir: 0}); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	// The data bars: "<path d="Mx y0 Vy1 ..." with a title naming the frame.
	bar := regexp.MustCompile(`<path d="M([0-9.]+) ([0-9.]+) V([0-9.]+) [^"]*" stroke="` + colData + `"`)
	var xs, ys []float64
	for _, m := range bar.FindAllStringSubmatch(svg, -1) {
		for i, v := range m[1:] {
			f, _ := strconv.ParseFloat(v, 64)
			if i == 0 {
				xs = append(xs, f)
			} else {
				ys = append(ys, f)
			}
		}
	}
	if len(xs) != 3 {
		t.Fatalf("%d data bars, want 3:\n%s", len(xs), svg)
	}
	plotW := float64(gW - padL - padR)
	if spread := xs[2] - xs[0]; spread < plotW/3 {
		t.Errorf("the three data bars span %.0f of %.0f units: the exchange is squeezed (x %v)", spread, plotW, xs)
	}
	if spread := slices.Max(ys) - slices.Min(ys); spread < seqH/2 {
		t.Errorf("the data spans %.0f of %d units vertically (y %v)", spread, seqH, ys)
	}
	// The window edge: a yellow path whose every point is inside the panel.
	win := regexp.MustCompile(`<path d="([^"]*)" fill="none" stroke="` + colWin + `"`).FindStringSubmatch(svg)
	if win == nil {
		t.Fatal("no window edge drawn")
	}
	pts := regexp.MustCompile(`[ML]([0-9.-]+) ([0-9.-]+)`).FindAllStringSubmatch(win[1], -1)
	for _, p := range pts {
		xx, _ := strconv.ParseFloat(p[1], 64)
		yy, _ := strconv.ParseFloat(p[2], 64)
		if xx < padL || xx > padL+plotW || yy < seqTop || yy > seqTop+seqH {
			t.Errorf("window edge point (%.1f, %.1f) is outside the panel [%d..%.0f]×[%d..%d]", xx, yy, padL, padL+plotW, seqTop, seqTop+seqH)
		}
	}
	if !strings.Contains(svg, "window edge above the scale") {
		t.Error("the held window edge is not labelled")
	}
	if !strings.Contains(svg, "data from 1.3 s") {
		t.Errorf("the title does not say where the data starts")
	}
}
