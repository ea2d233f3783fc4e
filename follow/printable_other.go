//go:build !amd64

package follow

// appendPrintable appends printable(b) to dst (appendPrintableSWAR; amd64
// has a 16-byte version, printable_amd64.go).
func appendPrintable(dst, b []byte) []byte { return appendPrintableSWAR(dst, b) }
