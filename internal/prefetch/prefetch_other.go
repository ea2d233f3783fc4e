//go:build !amd64

package prefetch

// lines does nothing where there is no implementation: a prefetch is only
// a hint.
func lines(p *byte, n int) {}
