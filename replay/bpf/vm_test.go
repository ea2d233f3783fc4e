package bpf

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay"
)

// TestRunAgreesWithMatch runs every program of testdata/tcpdump-frames.tsv
// in the interpreter (Run) on every frame and compares the verdict with
// Match: with cgo, Match is libpcap's own pcap_offline_filter, so this
// checks the interpreter against libpcap frame by frame.
func TestRunAgreesWithMatch(t *testing.T) {
	f, err := os.Open("testdata/tcpdump-frames.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := map[string][]frame.Frame{}
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 || strings.HasPrefix(parts[0], "#") || parts[2] == "error" {
			continue
		}
		file, expr := parts[0], parts[1]
		if frames[file] == nil {
			src, err := replay.Open(filepath.Join("..", "..", "pcaps", file), nil)
			if err != nil {
				t.Fatal(err)
			}
			for {
				fr, err := src.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				fr.Data = append([]byte(nil), fr.Data...)
				frames[file] = append(frames[file], fr)
			}
			src.Close()
		}
		flt := New(expr)
		for _, fr := range frames[file] {
			want, err := flt.Match(fr)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := flt.Program(fr.Meta.Link)
			if err != nil {
				t.Fatal(err)
			}
			orig := max(fr.Meta.OrigLen, len(fr.Data))
			if got := Run(prog, fr.Data, uint32(orig)) != 0; got != want {
				t.Errorf("%s frame %d, %q: Run says %v, Match %v", file, fr.Meta.Number, expr, got, want)
			}
			checked++
		}
		flt.Close()
	}
	if checked < 1000 {
		t.Fatalf("only %d verdicts compared", checked)
	}
}

// TestRunRejectsBadPrograms: loads past the packet, division by zero,
// jumps out of the program and unknown opcodes reject, as bpf_filter does.
func TestRunRejectsBadPrograms(t *testing.T) {
	pkt := []byte{1, 2, 3, 4}
	for name, prog := range map[string][]Insn{
		"load past end":   {{Code: clsLD | szW | modeABS, K: 2}, {Code: clsRET | srcK, K: 1}},
		"byte past end":   {{Code: clsLD | szB | modeABS, K: 4}, {Code: clsRET | srcK, K: 1}},
		"indirect wrap":   {{Code: clsLDX | modeIMM, K: 0xffffffff}, {Code: clsLD | szB | modeIND, K: 2}, {Code: clsRET | srcK, K: 1}},
		"divide by zero":  {{Code: clsALU | aluDIV | srcX}, {Code: clsRET | srcK, K: 1}},
		"jump out":        {{Code: clsJMP | jmpJA, K: 5}, {Code: clsRET | srcK, K: 1}},
		"unknown opcode":  {{Code: 0xffff}, {Code: clsRET | srcK, K: 1}},
		"falls off":       {{Code: clsLD | modeIMM, K: 1}},
		"bad memory slot": {{Code: clsST, K: 16}, {Code: clsRET | srcK, K: 1}},
	} {
		if v := Run(prog, pkt, 100); v != 0 {
			t.Errorf("%s: %d, want 0", name, v)
		}
	}
	// "len" is the wire length, not the captured one (greater 64).
	prog := []Insn{{Code: clsLD | szW | modeLEN}, {Code: clsJMP | jmpJGE | srcK, K: 64, Jt: 0, Jf: 1}, {Code: clsRET | srcK, K: 1}, {Code: clsRET | srcK, K: 0}}
	if Run(prog, pkt, 100) == 0 || Run(prog, pkt, 10) != 0 {
		t.Error("len must be the length on the wire")
	}
}

// FuzzRun: any program on any packet ends without a panic.
func FuzzRun(f *testing.F) {
	f.Add([]byte{0x28, 0, 0, 0, 12, 0, 0, 0, 0x06, 0, 0, 0, 1, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0}, uint32(14))
	f.Fuzz(func(t *testing.T, code, pkt []byte, wirelen uint32) {
		var prog []Insn
		for i := 0; i+8 <= len(code) && len(prog) < 64; i += 8 {
			c := code[i:]
			prog = append(prog, Insn{Code: uint16(c[0]) | uint16(c[1])<<8, Jt: c[2], Jf: c[3], K: uint32(c[4]) | uint32(c[5])<<8 | uint32(c[6])<<16 | uint32(c[7])<<24})
		}
		Run(prog, pkt, wirelen)
	})
}
