//go:build !amd64

package inetsum

// sumWords adds whole 8-byte words: sumWordsGo (amd64 has it in assembly).
func sumWords(b []byte) uint64 { return sumWordsGo(b) }
