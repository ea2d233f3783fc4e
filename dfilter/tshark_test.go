package dfilter_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/dfilter"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// expectation is one filter with the frames tshark selected in each capture.
type expectation struct {
	filter string
	frames map[string]string // capture → frames as ranges ("1-5,9"); absent = none
}

// loadExpectations reads pcaps/tshark/dfilter.tsv (scripts/dfilter-regen.sh).
func loadExpectations(t *testing.T) (captures []string, exps []expectation) {
	f, err := os.Open("../pcaps/tshark/dfilter.tsv")
	if err != nil {
		t.Fatalf("%v (run scripts/dfilter-regen.sh)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# captures: "):
			captures = strings.Fields(strings.TrimPrefix(line, "# captures: "))
		case strings.HasPrefix(line, "#") || line == "":
		case strings.HasPrefix(line, "F\t"):
			exps = append(exps, expectation{filter: line[2:], frames: map[string]string{}})
		default:
			cap, frames, ok := strings.Cut(line, "\t")
			if !ok || len(exps) == 0 {
				t.Fatalf("dfilter.tsv: bad line %q", line)
			}
			exps[len(exps)-1].frames[cap] = frames
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return captures, exps
}

// selectFrames runs every filter over one capture in a single pass (the
// analysis sees every frame) and returns, per filter, the frames selected
// as ranges.
func selectFrames(t *testing.T, path string, filters []*dfilter.Filter) []string {
	src, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pl := pipeline.New(src, analysis.New(analysis.Options{}))
	got := make([][]int, len(filters))
	for {
		it, err := pl.NextRef()
		if err != nil {
			if !pipeline.IsEOF(err) {
				t.Fatalf("%s: %v", path, err)
			}
			break
		}
		for i, f := range filters {
			if f.Match(it) {
				got[i] = append(got[i], it.Frame.Meta.Number)
			}
		}
	}
	out := make([]string, len(filters))
	for i, g := range got {
		out[i] = ranges(g)
	}
	return out
}

// ranges writes frame numbers as "1-5,9", as the regen script does.
func ranges(ns []int) string {
	var b strings.Builder
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ns[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(ns[j]))
		}
		i = j + 1
	}
	return b.String()
}

// TestAgreesWithTshark checks, for every filter of
// testdata/agreement.txt over every capture the regen script used, that
// tcpscope selects exactly the frames tshark 4.0 selects with
// -Y 'tcp && (FILTER)'.
func TestAgreesWithTshark(t *testing.T) {
	captures, exps := loadExpectations(t)
	if len(exps) < 40 || len(captures) == 0 {
		t.Fatalf("dfilter.tsv has %d filters over %d captures; want at least 40 filters", len(exps), len(captures))
	}
	var agree, differ, selected int
	for _, cap := range captures {
		filters := make([]*dfilter.Filter, len(exps))
		for i, e := range exps {
			f, err := dfilter.Compile(e.filter)
			if err != nil {
				t.Fatalf("%q: %v", e.filter, err)
			}
			filters[i] = f
		}
		got := selectFrames(t, filepath.Join("../pcaps", cap), filters)
		for i, e := range exps {
			want := e.frames[cap]
			if want != "" {
				selected++
			}
			if got[i] == want {
				agree++
				continue
			}
			differ++
			t.Errorf("%s: %s\n  tcpscope: %s\n  tshark:   %s", cap, e.filter, clip(got[i]), clip(want))
		}
	}
	t.Logf("%d filters × %d captures: %d agree with tshark (%d of them select frames), %d differ",
		len(exps), len(captures), agree, selected, differ)
}

func clip(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
