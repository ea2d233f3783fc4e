//go:build !linux && cgo

package capture

// linkState is not watched outside Linux: there, libpcap's own read error
// is all a capture learns about its interface.
type linkState struct{}

func watchLink(string) *linkState { return nil }

func (l *linkState) wentDown() bool { return false }

func (l *linkState) close() {}
