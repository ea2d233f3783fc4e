//go:build !amd64

package inetsum

// sum128 adds whole 8-byte words: sum128Go (amd64 has it in assembly).
func sum128(b []byte) uint64 { return sum128Go(b) }
