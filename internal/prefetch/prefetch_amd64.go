package prefetch

// lines issues PREFETCHT0 (into every cache level) for each 64-byte line
// from p for n bytes (n > 0). In prefetch_amd64.s.
//
//go:noescape
func lines(p *byte, n int)
