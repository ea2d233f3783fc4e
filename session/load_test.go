package session

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tcpscope/tcpscope/replay"
)

// TestLoadReadAheadSame: reading ahead on a second goroutine (files), which
// for a ladder or a graph also copies only each frame's headers, gathers
// the same session as reading in line, for every stream of every shipped
// capture: segments, notes, and the reassembled bytes.
func TestLoadReadAheadSame(t *testing.T) {
	files, _ := filepath.Glob("../pcaps/*.pcap*")
	loads := 0
	for _, path := range files {
		for stream := 0; stream < 3; stream++ {
			for _, follow := range []bool{false, true} {
				var a, b *Session
				var ea, eb error
				var ca, cb []Chunk
				for i, ahead := range []bool{false, true} {
					f, err := replay.Open(path, nil)
					if err != nil {
						break
					}
					var chunks []Chunk
					o := LoadOptions{Stream: stream, Follow: follow, ReadAhead: ahead}
					if follow {
						o.Keep = Keep{Head: 1}
						o.OnChunk = func(_ *Session, c Chunk) error {
							c.Data = append([]byte(nil), c.Data...)
							chunks = append(chunks, c)
							return nil
						}
					}
					s, err := Load(context.Background(), f, o)
					f.Close()
					if i == 0 {
						a, ea, ca = s, err, chunks
					} else {
						b, eb, cb = s, err, chunks
					}
				}
				if errors.Is(ea, ErrNoStream) && errors.Is(eb, ErrNoStream) {
					continue
				}
				loads++
				if (ea == nil) != (eb == nil) || ea != nil && ea.Error() != eb.Error() {
					t.Errorf("%s stream %d: error %v in line, %v ahead", path, stream, ea, eb)
					continue
				}
				if a == nil || b == nil {
					continue
				}
				a.Follow, b.Follow = nil, nil
				if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ca, cb) {
					t.Errorf("%s stream %d (follow %v): the session read ahead differs", path, stream, follow)
				}
				if follow {
					// Without notes (follow's): the same bytes and session,
					// the kept segment's note empty.
					f, err := replay.Open(path, nil)
					if err != nil {
						t.Fatal(err)
					}
					var chunks []Chunk
					o := LoadOptions{Stream: stream, Follow: true, ReadAhead: true, NoNotes: true, Keep: Keep{Head: 1},
						OnChunk: func(_ *Session, c Chunk) error {
							c.Data = append([]byte(nil), c.Data...)
							chunks = append(chunks, c)
							return nil
						}}
					c, err := Load(context.Background(), f, o)
					f.Close()
					if err != nil {
						t.Fatalf("%s stream %d without notes: %v", path, stream, err)
					}
					c.Follow = nil
					for i := range a.Segments {
						a.Segments[i].Note = ""
					}
					if !reflect.DeepEqual(a, c) || !reflect.DeepEqual(ca, chunks) {
						t.Errorf("%s stream %d: followed without notes, the session or its bytes differ", path, stream)
					}
				}
			}
		}
	}
	if loads < 100 {
		t.Errorf("only %d loads compared", loads)
	}
}
