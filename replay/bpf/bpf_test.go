package bpf

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay"
)

// TestAgreesWithTcpdump checks, for every capture and expression listed in
// testdata/tcpdump-frames.tsv (made by gen.sh with tcpdump), that the filter
// selects exactly the frames tcpdump selected, by original frame number, and
// rejects exactly the expressions tcpdump rejected.
func TestAgreesWithTcpdump(t *testing.T) {
	f, err := os.Open("testdata/tcpdump-frames.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, nonEmpty := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 3 {
			t.Fatalf("bad testdata line %q", line)
		}
		file, expr, want := parts[0], parts[1], parts[2]
		cases++
		if want != "-" && want != "error" {
			nonEmpty++
		}
		t.Run(file+"/"+expr, func(t *testing.T) {
			got, err := selectFrames(filepath.Join("..", "..", "pcaps", file), expr)
			if want == "error" {
				var ee *ExprError
				if !errors.As(err, &ee) {
					t.Fatalf("tcpdump rejects %q for this file; got frames %q, err %v", expr, got, err)
				}
				if !strings.Contains(err.Error(), expr) {
					t.Errorf("error %q does not name the expression", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("frames selected:\n got %s\nwant %s (tcpdump)", got, want)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cases < 50 || nonEmpty < 30 {
		t.Fatalf("only %d cases (%d selecting frames): testdata truncated?", cases, nonEmpty)
	}
}

// selectFrames returns the numbers of the frames of path that expr selects,
// comma-separated, or "-" for none.
func selectFrames(path, expr string) (string, error) {
	src, err := replay.Open(path, nil)
	if err != nil {
		return "", err
	}
	defer src.Close()
	flt := New(strings.Fields(expr)...)
	defer flt.Close()
	var nums []string
	for {
		fr, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		ok, err := flt.Match(fr)
		if err != nil {
			return "", err
		}
		if ok {
			nums = append(nums, strconv.Itoa(fr.Meta.Number))
		}
	}
	if len(nums) == 0 {
		return "-", nil
	}
	return strings.Join(nums, ","), nil
}

func TestBadExpression(t *testing.T) {
	flt := New("tcp", "port", "eighty")
	err := flt.Compile(frame.LinkEthernet)
	var ee *ExprError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want an ExprError", err)
	}
	if !strings.Contains(err.Error(), `"tcp port eighty"`) {
		t.Errorf("error %q does not quote the expression", err)
	}
}

func TestEmptyMatchesAll(t *testing.T) {
	ok, err := New().Match(frame.Frame{Data: []byte{1}, Meta: frame.Meta{Link: frame.LinkEthernet}})
	if err != nil || !ok {
		t.Fatalf("empty filter: %v %v", ok, err)
	}
}
