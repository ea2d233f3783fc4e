package picture

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
