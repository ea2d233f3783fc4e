package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

func init() {
	p := os.Getenv("TCPSCOPE_HEAPPROF")
	if p == "" {
		return
	}
	go func() {
		var best uint64
		for {
			time.Sleep(2 * time.Second)
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > best {
				best = m.HeapAlloc
				runtime.GC()
				f, _ := os.Create(p)
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}()
}
